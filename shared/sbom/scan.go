package sbom

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	packageurl "github.com/package-url/packageurl-go"
	"pault.ag/go/debian/control"
)

// The package kinds, as package URL types (packageurl.TypeGolang, ...,
// which are variables).
const (
	kindGo  = "golang"
	kindDeb = "deb"
	kindAPK = "apk"
)

// Where the package databases are, in the image's file system.
const (
	dpkgStatus    = "/var/lib/dpkg/status"
	dpkgStatusDir = "/var/lib/dpkg/status.d/"
	apkInstalled  = "/lib/apk/db/installed"
)

// maxBinary bounds the size of an executable read for Go build info.
const maxBinary = 1 << 30

// component is one package found in the image.
type component struct {
	kind    string
	name    string
	version string
	arch    string
	// locations are the files it was found in: a Go binary, dpkg's or
	// apk's database.
	locations []string
	purl      string
}

// distro is what /etc/os-release says.
type distro struct {
	id, versionID, prettyName string
}

// inventory is everything found in one image.
type inventory struct {
	distro     distro
	components []component
}

// scan reads img's flattened file system once and lists its packages.
func scan(ctx context.Context, img v1.Image) (inventory, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	tmp, err := os.CreateTemp("", "gitship-sbom-*")
	if err != nil {
		return inventory{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	var comps []component
	releases := map[string][]byte{}
	for {
		if err := ctx.Err(); err != nil {
			return inventory{}, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return inventory{}, fmt.Errorf("read layers: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean("/" + h.Name)
		switch {
		case name == "/etc/os-release" || name == "/usr/lib/os-release":
			data, err := io.ReadAll(io.LimitReader(tr, 64<<10))
			if err != nil {
				return inventory{}, fmt.Errorf("read %s: %w", name, err)
			}
			releases[name] = data
		case name == dpkgStatus || strings.HasPrefix(name, dpkgStatusDir) && !strings.HasSuffix(name, ".md5sums"):
			found, err := readDatabase(tr, name, kindDeb)
			if err != nil {
				return inventory{}, err
			}
			comps = append(comps, found...)
		case name == apkInstalled:
			found, err := readDatabase(tr, name, kindAPK)
			if err != nil {
				return inventory{}, err
			}
			comps = append(comps, found...)
		case h.Mode&0o111 != 0 && h.Size > 4 && h.Size <= maxBinary:
			found, err := readGoBinary(tr, tmp, name)
			if err != nil {
				return inventory{}, err
			}
			comps = append(comps, found...)
		}
	}
	inv := inventory{distro: readOSRelease(releases)}
	inv.components = merge(comps, inv.distro)
	return inv, nil
}

// readGoBinary lists the modules of a Go executable: its main module,
// its dependencies as built (replacements applied), and the standard
// library. Any other file, or an executable that is not Go's, lists
// nothing.
func readGoBinary(r io.Reader, tmp *os.File, name string) ([]component, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(4); !bytes.Equal(magic, []byte("\x7fELF")) {
		return nil, nil
	}
	if err := tmp.Truncate(0); err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := io.Copy(tmp, br); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	bi, err := buildinfo.Read(tmp)
	if err != nil {
		return nil, nil // not a Go binary, or one without build info
	}
	loc := []string{name}
	var out []component
	if bi.Main.Path != "" {
		out = append(out, component{kind: kindGo, name: bi.Main.Path, version: moduleVersion(bi.Main.Version), locations: loc})
	}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		out = append(out, component{kind: kindGo, name: d.Path, version: moduleVersion(d.Version), locations: loc})
	}
	if v, _, _ := strings.Cut(bi.GoVersion, " "); v != "" {
		out = append(out, component{kind: kindGo, name: "stdlib", version: v, locations: loc})
	}
	return out, nil
}

// moduleVersion is "(devel)" for a module built from a checkout, as Go
// itself says it.
func moduleVersion(v string) string {
	if v == "" {
		return "(devel)"
	}
	return v
}

// readDatabase lists the packages of dpkg's status file (installed ones
// only), of one file of distroless's status.d, or of apk's installed
// database. apk's records are blank-line separated "K:value" lines, which
// the Debian control parser reads as it reads dpkg's "Key: value".
func readDatabase(r io.Reader, name, kind string) ([]component, error) {
	pr, err := control.NewParagraphReader(io.LimitReader(r, 256<<20), nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	paras, err := pr.All()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var out []component
	for _, p := range paras {
		v := p.Values
		c := component{kind: kind, locations: []string{name}}
		switch kind {
		case kindDeb:
			// status.d has no Status field: it lists installed packages only.
			if st, ok := v["Status"]; ok && !strings.HasSuffix(strings.TrimSpace(st), " installed") {
				continue
			}
			c.name, c.version, c.arch = v["Package"], v["Version"], v["Architecture"]
		case kindAPK:
			c.name, c.version, c.arch = v["P"], v["V"], v["A"]
		}
		if c.name == "" {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// readOSRelease reads ID, VERSION_ID and PRETTY_NAME from /etc/os-release,
// else /usr/lib/os-release, as os-release(5) says to.
func readOSRelease(files map[string][]byte) distro {
	data, ok := files["/etc/os-release"]
	if !ok {
		data = files["/usr/lib/os-release"]
	}
	var d distro
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			d.id = v
		case "VERSION_ID":
			d.versionID = v
		case "PRETTY_NAME":
			d.prettyName = v
		}
	}
	return d
}

// merge gives each component its package URL and lists each package URL
// once, with every file it was found in, in a stable order.
func merge(comps []component, d distro) []component {
	byPURL := map[string]int{}
	var out []component
	for _, c := range comps {
		c.purl = purl(c, d)
		if i, ok := byPURL[c.purl]; ok {
			if !slices.Contains(out[i].locations, c.locations[0]) {
				out[i].locations = append(out[i].locations, c.locations...)
			}
			continue
		}
		byPURL[c.purl] = len(out)
		out = append(out, c)
	}
	for i := range out {
		slices.Sort(out[i].locations)
	}
	slices.SortFunc(out, func(a, b component) int {
		return strings.Compare(a.kind+" "+a.name+" "+a.version, b.kind+" "+b.name+" "+b.version)
	})
	return out
}

// purl is the component's package URL, as syft and Trivy write them:
// pkg:golang/github.com/x/y@v1.2.3, pkg:golang/stdlib@1.26.8, pkg:deb/debian/tzdata@2024a-0+deb12u1?arch=all&distro=debian-12,
// pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.
func purl(c component, d distro) string {
	switch c.kind {
	case kindGo:
		v := c.version
		if c.name == "stdlib" {
			v = strings.TrimPrefix(v, "go") // as syft and OSV name Go's versions: 1.26.8
		}
		ns, name := path.Split(c.name)
		return packageurl.NewPackageURL(kindGo, strings.TrimSuffix(ns, "/"), name, v, nil, "").ToString()
	default:
		ns := d.id
		if ns == "" {
			ns = map[string]string{kindDeb: "debian", kindAPK: "alpine"}[c.kind]
		}
		q := map[string]string{}
		if c.arch != "" {
			q["arch"] = c.arch
		}
		if d.id != "" && d.versionID != "" {
			q["distro"] = d.id + "-" + d.versionID
		}
		return packageurl.NewPackageURL(c.kind, ns, c.name, c.version, packageurl.QualifiersFromMap(q), "").ToString()
	}
}
