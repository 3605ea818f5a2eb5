package sbom

import (
	"strings"
	"testing"

	packageurl "github.com/package-url/packageurl-go"
)

// FuzzPackageDatabases: whatever an image holds as dpkg's or apk's
// database and os-release, reading it never panics, and every package
// listed has a package URL that reads back as its name (lower-cased, as
// the purl specification does for deb and apk) and version.
func FuzzPackageDatabases(f *testing.F) {
	f.Add([]byte("Package: tzdata\nStatus: install ok installed\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"),
		[]byte("ID=debian\nVERSION_ID=\"12\"\n"))
	f.Add([]byte("P:musl\nV:1.2.5-r0\nA:x86_64\n\nP:busybox\nV:1.36.1-r29\n"), []byte("ID=alpine\nVERSION_ID=3.20.3\n"))
	f.Add([]byte("Package: a b/c?d#e@f\nVersion: 1:2+3~4\n continued\n"), []byte("ID='we ird'\nVERSION_ID=1/2?3"))
	f.Fuzz(func(t *testing.T, db, release []byte) {
		d := readOSRelease(map[string][]byte{"/etc/os-release": release})
		for _, kind := range []string{kindDeb, kindAPK} {
			comps, err := readDatabase(strings.NewReader(string(db)), "/db", kind)
			if err != nil {
				continue // named by the caller; not a panic
			}
			for _, c := range merge(comps, d) {
				if c.name == "" {
					t.Errorf("%s: a package without a name: %+v", kind, c)
				}
				p, err := packageurl.FromString(c.purl)
				if err != nil {
					t.Errorf("%s: package URL %q of %q does not parse: %v", kind, c.purl, c.name, err)
					continue
				}
				// The purl specification lower-cases deb and apk names
				// (Unicode case folding is not one-to-one: compare ASCII
				// names only; Debian's and Alpine's are ASCII).
				ascii := strings.IndexFunc(c.name, func(r rune) bool { return r > 0x7f }) < 0
				if ascii && !strings.EqualFold(p.Name, c.name) || p.Version != c.version {
					t.Errorf("%s: package URL %q reads back as %q %q, want %q %q", kind, c.purl, p.Name, p.Version, c.name, c.version)
				}
			}
		}
	})
}
