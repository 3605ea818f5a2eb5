package gotool

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cache directory of a command from a dependency (buildkitd, act) is
// keyed by go.mod and go.sum alone, so the same pins reuse one build; a
// command of the tool's own module (registry3) is keyed by its main.go
// too, so an edit of it builds anew.
func TestSources(t *testing.T) {
	for _, tc := range []struct {
		tool, pkg string
		ownFiles  bool
	}{
		{"buildkitd", "github.com/moby/buildkit/cmd/buildkitd", false},
		{"act", "github.com/nektos/act", false},
		{"registry3", "github.com/gitship/gitship/tools/registry3", true},
	} {
		src, err := Dir(tc.tool)
		if err != nil {
			t.Fatal(err)
		}
		got, err := sources(src, tc.pkg)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.New()
		for _, f := range []string{"go.mod", "go.sum"} {
			data, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				t.Fatal(err)
			}
			sum.Write(data)
		}
		modOnly := hex.EncodeToString(sum.Sum(nil))[:12]
		if (got != modOnly) != tc.ownFiles {
			t.Errorf("%s: sources = %s, go.mod and go.sum alone %s; want the command's own files hashed: %v", tc.tool, got, modOnly, tc.ownFiles)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct{ tool, module string }{
		{"buildkitd", "github.com/moby/buildkit"},
		{"act", "github.com/nektos/act"},
		{"registry3", "github.com/distribution/distribution/v3"},
	} {
		v, err := Version(tc.tool, tc.module)
		if err != nil || !strings.HasPrefix(v, "v") {
			t.Errorf("Version(%s, %s) = %q, %v; want a version", tc.tool, tc.module, v, err)
		}
	}
	if _, err := Version("buildkitd", "example.com/none"); err == nil || !strings.Contains(err.Error(), "no requirement of example.com/none") {
		t.Errorf("a module not required: %v, want 'no requirement of'", err)
	}
}
