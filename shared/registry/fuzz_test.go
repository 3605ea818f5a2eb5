package registry

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzParseReference holds the parsers of --repository and
// --promote-from: no input panics, a reference they accept prints as one
// they accept again, unchanged, and it has nothing in it that could break
// a log line or start a CI command (no space, no control character).
// Seeds: testdata/fuzz/FuzzParseReference.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"ghcr.io/acme/shop", "ghcr.io/acme/shop:v1.2.3", "127.0.0.1:5000/shop@sha256:" + strings.Repeat("ab", 32),
		"myacr.azurecr.io/team/app:main", "shop", "localhost/a/b/c:latest", "UPPER/case", "a:b:c", "::error::x", "a\nb",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, insecure bool) {
		if ref, err := ParseReference(s, insecure); err == nil {
			out := ref.String()
			clean(t, out)
			again, err := ParseReference(out, insecure)
			if err != nil || again.String() != out {
				t.Errorf("ParseReference(%q) = %q, which parses as %v, %v", s, out, again, err)
			}
			if ref.Context().RegistryStr() == "" || ref.Context().RepositoryStr() == "" {
				t.Errorf("ParseReference(%q) = %q: no registry or repository", s, out)
			}
		}
		if repo, err := ParseRepository(s, insecure); err == nil {
			out := repo.String()
			clean(t, out)
			if again, err := ParseRepository(out, insecure); err != nil || again.String() != out {
				t.Errorf("ParseRepository(%q) = %q, which parses as %v, %v", s, out, again, err)
			}
		}
	})
}

func clean(t *testing.T, s string) {
	t.Helper()
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII }); i >= 0 {
		t.Errorf("parsed reference %q has %q at %d", s, s[i], i)
	}
}
