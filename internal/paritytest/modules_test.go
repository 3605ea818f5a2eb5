package paritytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/testenv"
)

// moduleDirs are the module cache directories of tools/corpus's modules,
// looked up once per test binary.
var moduleDirs sync.Map // module → string or error

// moduleDir is where the module cache keeps the version of module that
// tools/corpus requires: `go mod download -json MODULE` in tools/corpus,
// offline (GOPROXY=off), so it finds what `go mod download` there put in
// the cache and downloads nothing. A module not in the cache skips the
// test, or fails it under GITSHIP_TEST_STRICT (.ci/run downloads them).
func moduleDir(t testing.TB, module string) string {
	t.Helper()
	if d, ok := moduleDirs.Load(module); ok {
		if err, ok := d.(error); ok {
			testenv.Unavailable(t, "%v", err)
		}
		return d.(string)
	}
	dir, err := lookupModule(module)
	if err != nil {
		moduleDirs.Store(module, err)
		testenv.Unavailable(t, "%v", err)
	}
	moduleDirs.Store(module, dir)
	return dir
}

func lookupModule(module string) (string, error) {
	src, err := gotool.Dir("corpus")
	if err != nil {
		return "", fmt.Errorf("tools/corpus: %w", err)
	}
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Dir == "" || err != nil {
		return "", fmt.Errorf("%s is not in the module cache (run `go mod download` in tools/corpus): %v %s%s", module, err, info.Error, stderr.Bytes())
	}
	if _, err := os.Stat(info.Dir); err != nil {
		return "", fmt.Errorf("%s: %w (run `go mod download` in tools/corpus)", module, err)
	}
	return info.Dir, nil
}

// copyTree copies the directory src to dst, writable (the module cache's
// files are read-only), keeping regular files and directories but those
// named in exclude.
func copyTree(src, dst string, exclude ...string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || slices.Contains(exclude, d.Name()) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
