// Package gotool builds the Go commands tests run (buildkitd, buildctl,
// BuildKit's Dockerfile frontend, act, distribution v3) from the nested
// modules under tools/ that pin their versions, once per machine and
// offline: with the modules already in the module cache (.ci/run runs
// `go mod download` in each first), so that no test downloads anything.
package gotool

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Command is a command a module tools/NAME pins.
type Command struct {
	// Tool is NAME, the directory under tools/: "buildkitd".
	Tool string
	// Module is the module whose version the tool pins, which names the
	// cache directory: "github.com/moby/buildkit".
	Module string
	// Package is the command's package: "github.com/moby/buildkit/cmd/buildctl".
	// Its last element names the executable.
	Package string
	// Env, when set in the environment, names an executable built
	// already, used instead: "GITSHIP_BUILDCTL".
	Env string
}

var built struct {
	sync.Mutex
	bins map[Command]*once
}

type once struct {
	sync.Once
	bin string
	err error
}

// Build returns the command's executable: the one Env names, else one
// built from tools/Tool, static and -trimpath, into
// $XDG_CACHE_HOME/gitship-test/TOOL-VERSION-SUM/, VERSION the version
// tools/Tool requires of Module and SUM a hash of its go.mod and go.sum
// (and of the command's own files when it is in tools/Tool's own module).
// The first test binary on the machine builds it (a cold build of
// buildkitd or act takes a minute or two) while the others wait for it;
// later ones find it there. A process asks the disk once per command.
func Build(c Command) (string, error) {
	built.Lock()
	o := built.bins[c]
	if o == nil {
		if built.bins == nil {
			built.bins = map[Command]*once{}
		}
		o = &once{}
		built.bins[c] = o
	}
	built.Unlock()
	o.Do(func() { o.bin, o.err = build(c) })
	return o.bin, o.err
}

func build(c Command) (string, error) {
	if c.Env != "" {
		if bin := os.Getenv(c.Env); bin != "" {
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("%s: %w", c.Env, err)
			}
			return bin, nil
		}
	}
	src, err := Dir(c.Tool)
	if err != nil {
		return "", err
	}
	version, err := Version(c.Tool, c.Module)
	if err != nil {
		return "", err
	}
	sum, err := sources(src, c.Package)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "gitship-test", c.Tool+"-"+version+"-"+sum)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, path.Base(c.Package))
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	// Several test binaries may start at once (go test ./...): one
	// builds, the others wait for it.
	unlock, err := lock(filepath.Join(dir, "lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	tmp := bin + "." + strconv.Itoa(os.Getpid())
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, c.Package)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build %s in %s: %v\n%s(run `go mod download` in tools/%s first)", c.Package, src, err, out, c.Tool)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// sources hashes what decides the executable: src's go.mod and go.sum,
// and the Go files of pkg when it is in src's own module (distribution
// v3's main.go in tools/registry3), 12 hex digits.
func sources(src, pkg string) (string, error) {
	files := []string{filepath.Join(src, "go.mod"), filepath.Join(src, "go.sum")}
	mod, err := modulePath(files[0])
	if err != nil {
		return "", err
	}
	if rel, ok := strings.CutPrefix(pkg, mod); ok && (rel == "" || rel[0] == '/') {
		own, err := filepath.Glob(filepath.Join(src, filepath.FromSlash(rel), "*.go"))
		if err != nil {
			return "", err
		}
		sort.Strings(own)
		files = append(files, own...)
	}
	sum := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		sum.Write(data)
	}
	return hex.EncodeToString(sum.Sum(nil))[:12], nil
}

func modulePath(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

// Version is the version tools/TOOL's go.mod requires of module, e.g.
// "v0.34.2".
func Version(tool, module string) (string, error) {
	src, err := Dir(tool)
	if err != nil {
		return "", err
	}
	gomod := filepath.Join(src, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == module {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s: no requirement of %s", gomod, module)
}

// Dir finds tools/NAME, a directory with a go.mod, from the working
// directory, somewhere under the repository.
func Dir(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "tools", name, "go.mod")); err == nil && !fi.IsDir() {
			return filepath.Join(dir, "tools", name), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no tools/%s/go.mod above the working directory", name)
		}
		dir = parent
	}
}

// lock takes an exclusive lock on path, waiting for it.
func lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
