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

// TestBuilderOutput: on Cloud Build the outputs also go to
// $BUILDER_OUTPUT/output, which the build keeps in its results
// (buildStepOutputs); elsewhere BUILDER_OUTPUT means nothing.
func TestBuilderOutput(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  Env
		want bool
	}{
		{"cloudbuild", Env{"BUILD_ID": "1", "PROJECT_ID": "p"}, true},
		{"local", Env{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, builder := t.TempDir(), t.TempDir()
			tt.env["BUILDER_OUTPUT"] = builder
			p, _ := Detect(tt.env, Options{Step: "publish", Dir: dir})
			p.SetOutput(nil, Output{Name: "digest", Value: "sha256:abc"})
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := ReadOutputs(filepath.Join(builder, "output"))
			if !tt.want {
				if err == nil {
					t.Errorf("%s wrote $BUILDER_OUTPUT/output", tt.name)
				}
				return
			}
			if err != nil || got["digest"] != "sha256:abc" {
				t.Errorf("$BUILDER_OUTPUT/output = %v, %v; want the outputs", got, err)
			}
			if same, _ := ReadOutputs(filepath.Join(dir, ".gitship", "publish.json")); same["digest"] != "sha256:abc" {
				t.Errorf("the workspace's outputs file = %v", same)
			}
		})
	}
}
