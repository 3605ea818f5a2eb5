// Package steptest runs a step's built binary the way a CI system does, for
// the end-to-end tests under steps/: a copy of an example as the checkout,
// exactly the environment given, golden files for what the CI reads.
package steptest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Update rewrites golden files: go test ./steps/<step> -update.
var Update = flag.Bool("update", false, "rewrite golden files")

// Build compiles the step's main package in the working directory into a
// temporary directory; call it from TestMain and Cleanup when done.
func Build(name string) (binary string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", name+"-e2e")
	if err != nil {
		return "", nil, err
	}
	binary = filepath.Join(dir, name)
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build %s: %w", name, err)
	}
	return binary, func() { os.RemoveAll(dir) }, nil
}

// Workspace copies src (a directory) into a fresh one: the checkout a CI
// job would have.
func Workspace(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// Result is how a run ended.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run starts binary in dir with exactly env (plus PATH and HOME), so no
// variable of the machine running the tests leaks in.
func Run(t testing.TB, binary, dir string, env map[string]string, args ...string) Result {
	t.Helper()
	return RunStdin(t, binary, dir, env, nil, args...)
}

// RunStdin is Run with data on standard input.
func RunStdin(t testing.TB, binary, dir string, env map[string]string, stdin []byte, args ...string) Result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return Result{code, stdout.String(), stderr.String()}
}

// Golden compares got with testdata/<name>.golden, rewriting it first
// under -update.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *Update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s", name, path, got)
	}
}

// Main is a step test's TestMain: it builds the binary into *binary, runs
// the tests and removes the binary.
func Main(m *testing.M, name string, binary *string) {
	flag.Parse()
	bin, cleanup, err := Build(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*binary = bin
	code := m.Run()
	cleanup()
	os.Exit(code)
}
