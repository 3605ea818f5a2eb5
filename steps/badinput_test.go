// Package steps_test holds the tests that cross the steps: each step's own
// end-to-end tests live in its package; this one runs the same kind of bad
// input through every built binary and holds them to one contract.
package steps_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
)

// binaries maps a step to its built binary.
var binaries = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gitship-steps")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	names := []string{"build", "validate", "publish", "gitops-pr"}
	args := []string{"build", "-o", dir}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	build := exec.Command("go", args...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the steps:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	for _, n := range names {
		binaries[n] = filepath.Join(dir, n)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const digest = "sha256:3f1e5b2c0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"

// TestBadInputExitsTwo is the README's exit-code contract for input a user
// got wrong: exit 2, the input named, before anything is pushed, built or
// written. Each row is one mistake, run through the step's binary.
func TestBadInputExitsTwo(t *testing.T) {
	chart := filepath.Join("..", "examples", "app", "deploy", "chart")
	chart, _ = filepath.Abs(chart)
	tests := []struct {
		name  string
		step  string
		files map[string]string // written into the working directory first
		args  []string
		want  []string // each must appear in stderr
	}{
		{
			name: "gitops-pr image without a digest",
			step: "gitops-pr",
			args: []string{"--environment", "dev", "--chart", chart, "--direct",
				"--image", "registry.example.com/hello:1.0"},
			want: []string{"--image", "registry.example.com/hello:1.0", "digest"},
		},
		{
			name: "gitops-pr image with a malformed digest",
			step: "gitops-pr",
			args: []string{"--environment", "dev", "--chart", chart, "--direct",
				"--image", "registry.example.com/hello@sha256:abc"},
			want: []string{"--image", "sha256:abc"},
		},
		{
			name: "gitops-pr branch name git refuses",
			step: "gitops-pr",
			args: []string{"--environment", "dev", "--chart", chart, "--direct",
				"--image", "registry.example.com/hello@" + digest, "--gitops-branch", "main..lock"},
			want: []string{"--gitops-branch", "main..lock"},
		},
		{
			name: "gitops-pr malformed gitops repository",
			step: "gitops-pr",
			args: []string{"--environment", "dev", "--chart", chart, "--direct",
				"--image", "registry.example.com/hello@" + digest, "--gitops-repo", "https://[::1/acme/gitops.git"},
			want: []string{"--gitops-repo"},
		},
		{
			name: "build context that does not exist",
			step: "build",
			args: []string{"--context", "no-such-dir"},
			want: []string{"--context", "no-such-dir"},
		},
		{
			name:  "build binary .dockerignore",
			step:  "build",
			files: map[string]string{"Dockerfile": "FROM scratch\n", ".dockerignore": "node_modules\n\x00\x01\x02\xff\xfe\n"},
			args:  []string{"--context", "."},
			want:  []string{".dockerignore"},
		},
		{
			name:  "build malformed .dockerignore",
			step:  "build",
			files: map[string]string{"Dockerfile": "FROM scratch\n", ".dockerignore": "ok\n[unclosed\n"},
			args:  []string{"--context", "."},
			want:  []string{".dockerignore:2", "[unclosed"},
		},
		{
			name:  "publish tarball that is not a tar",
			step:  "publish",
			files: map[string]string{"image.tar": "this is not a tar archive\n"},
			args:  []string{"--image", "tarball:image.tar", "--repository", "127.0.0.1:1/app"},
			want:  []string{"image.tar"},
		},
		{
			name:  "validate render-to a directory gitship did not write",
			step:  "validate",
			files: map[string]string{"out/keep-me.txt": "mine\n"},
			args:  []string{"--chart", chart, "--render-to", "out"},
			want:  []string{"--render-to", "out"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The checkout a CI job would have, with the row's files.
			files := map[string]string{"README.md": "# app\n"}
			maps.Copy(files, tt.files)
			dir, _ := steptest.Checkout(t, steptest.Repo{Files: files})
			// A GitOps repository that would accept the push, so a row
			// that got past the check would be seen writing to it.
			env := map[string]string{"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
			if tt.step == "gitops-pr" && !slices.Contains(tt.args, "--gitops-repo") {
				tt.args = append(tt.args, "--gitops-repo", bareRepo(t))
			}
			res := steptest.Run(t, binaries[tt.step], dir, env, tt.args...)
			if res.Code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, res.Stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "out", "keep-me.txt")); tt.files["out/keep-me.txt"] != "" && err != nil {
				t.Errorf("the foreign directory lost its file: %v", err)
			}
		})
	}
}

// bareRepo is an empty bare repository on disk.
func bareRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "gitops.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	return dir
}
