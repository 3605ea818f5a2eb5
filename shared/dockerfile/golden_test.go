package dockerfile

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the current output")

// goldenTargets are passed to every golden file, so GS1001 shows up where a
// file lacks the stages.
var goldenTargets = []string{"build"}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".Dockerfile"), func(t *testing.T) {
			src := readFile(t, path)
			got := render(Lint(name, src, Options{Targets: goldenTargets}))
			golden := strings.TrimSuffix(path, ".Dockerfile") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := string(readFile(t, golden))
			if got != want {
				t.Errorf("findings differ from %s (run go test -update to accept):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testdataFiles returns every Dockerfile under testdata by path.
func testdataFiles(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pattern := range []string{"testdata/*.Dockerfile", "testdata/golden/*.Dockerfile"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			out[f] = readFile(t, f)
		}
	}
	return out
}
