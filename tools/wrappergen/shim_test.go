package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/wrapper"
)

// TestShim runs the task shim's own tests (Node's test runner, no npm
// packages) so go test ./... covers the JavaScript too.
func TestShim(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the Azure task shim is not tested")
	}
	// The test files by name: Node 24 reads a directory argument as a script.
	tests, err := filepath.Glob(filepath.Join(repoRoot, filepath.Dir(ShimSource), "*.test.js"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no shim tests next to %s: %v", ShimSource, err)
	}
	cmd := exec.Command(node, append([]string{"--test"}, tests...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", filepath.Dir(ShimSource), err, out)
	}
}

// TestAzureTaskEndToEnd runs the generated LintV1 task folder the way the
// agent does: the built binary under bin/<os>-<arch>/ without its exec bit
// (as a VSIX unpacks it), node index.js, inputs as INPUT_<NAME> of the
// task.json names, TF_BUILD set. The input failOn must reach --fail-on and
// the step must report through ##vso commands.
func TestAzureTaskEndToEnd(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the Azure task is not tested end to end")
	}
	goos, goarch := runtime.GOOS, runtime.GOARCH
	if goos == "windows" {
		t.Skip("the fixture is a POSIX task folder")
	}
	s := Steps()[0]
	task := t.TempDir()
	for _, name := range []string{"task.json", "index.js", "step.json"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, "azure-pipelines-task", wrapper.TaskDir(s), name))
		if err != nil {
			t.Fatalf("%v (run go run ./tools/wrappergen)", err)
		}
		if err := os.WriteFile(filepath.Join(task, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(task, "bin", goos+"-"+goarch, "gitship-"+s.Name)
	build := exec.Command("go", "build", "-o", bin, "./steps/"+s.Name)
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Chmod(bin, 0o644); err != nil {
		t.Fatal(err)
	}

	// A Dockerfile with one warning: an untagged base image.
	sources := t.TempDir()
	if err := os.WriteFile(filepath.Join(sources, "Dockerfile"), []byte("FROM alpine\nCMD [\"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		failOn   string
		wantCode int
		want     []string
	}{
		{"none", 0, []string{"##vso[task.setvariable variable=findings;isOutput=true]"}},
		{"warning", 1, []string{"##vso[task.logissue type=warning;sourcepath=Dockerfile", "##vso[task.complete result=Failed;]gitship-lint exited with 1"}},
	}
	for _, tt := range tests {
		t.Run("failOn="+tt.failOn, func(t *testing.T) {
			cmd := exec.Command(node, filepath.Join(task, "index.js"))
			cmd.Dir = t.TempDir()
			cmd.Env = []string{
				"PATH=" + os.Getenv("PATH"),
				"TF_BUILD=True",
				"BUILD_SOURCESDIRECTORY=" + sources,
				"AGENT_TEMPDIRECTORY=" + t.TempDir(),
				"INPUT_FAILON=" + tt.failOn,
				"INPUT_FORMAT=text",
				"INPUT_PATH=.",
			}
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("node index.js: %v", err)
			}
			if code != tt.wantCode {
				t.Errorf("node index.js exited %d, want %d:\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("the shim did not make %s executable (err %v)", bin, err)
	}
}
