package ci

import (
	"os"
	"path/filepath"
	"testing"
)

// TestJSONOutputsFileMode: the outputs file is readable by everyone
// (0644), whether it is new or replaces one: on Cloud Build the next step
// is another image, often running as another user than the step that
// wrote it (gitship's images run as root).
func TestJSONOutputsFileMode(t *testing.T) {
	for _, tt := range []struct {
		name     string
		existing os.FileMode // 0: no file before
	}{
		{"new file", 0},
		{"replaces a 0600 file", 0o600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ".gitship", "lint.json")
			if tt.existing != 0 {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte("{}\n"), tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			p, _ := Detect(Env{"BUILD_ID": "1", "PROJECT_ID": "p"}, Options{Step: "lint", Dir: dir})
			p.SetOutput(nil, Output{Name: "findings", Value: "2"})
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o644 {
				t.Errorf("%s is %v, want -rw-r--r-- (0644)", path, fi.Mode().Perm())
			}
			if got, err := ReadOutputs(path); err != nil || got["findings"] != "2" {
				t.Errorf("outputs = %v, %v", got, err)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("temporary files left beside the outputs: %v", entries)
			}
		})
	}
}
