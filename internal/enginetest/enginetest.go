// Package enginetest gives tests a real Docker engine and a base image that
// needs no registry: the engine the machine has, or a dockerd it starts, and
// gitship-test/busybox:1, imported from the local busybox-static binary.
//
// A test package that may need a dockerd started calls Main from TestMain,
// which stops that dockerd when the tests are done.
package enginetest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/imagetest"
	"github.com/gitship/gitship/internal/testenv"
)

// BaseImageRef is the image BaseImage provides.
const BaseImageRef = "gitship-test/busybox:1"

// candidates are the sockets tried, in order, after DOCKER_HOST; the last
// is where the development container's dockerd listens.
var candidates = []string{"unix:///var/run/docker.sock", "unix:///tmp/dockerd/docker.sock"}

// The engine is found (or started) once per test binary.
var (
	mu       sync.Mutex
	resolved bool
	host     string
	skipWhy  string
	started  *daemon
	inMain   bool
	imported = map[string]bool{}
)

// Main runs the tests of a package whose tests call Daemon and stops a
// dockerd Daemon started. Call it from TestMain.
func Main(m *testing.M) {
	flag.Parse()
	os.Exit(Run(m.Run))
}

// Run is Main for a TestMain that does more around the tests: it runs
// them with run and stops a dockerd Daemon started, returning run's code.
func Run(run func() int) int {
	mu.Lock()
	inMain = true
	mu.Unlock()
	code := run()
	mu.Lock()
	if started != nil {
		started.stop()
	}
	mu.Unlock()
	return code
}

// Daemon returns the host of an engine that answers: DOCKER_HOST, the
// usual sockets, or a dockerd started in a temporary directory when the
// tests run as root, dockerd is installed and the package's TestMain calls
// Main. Otherwise it skips the test, saying why, or fails it when
// GITSHIP_TEST_STRICT is set, as .ci/run does.
func Daemon(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !resolved {
		resolved = true
		host, skipWhy = find()
		if started != nil {
			t.Logf("enginetest: no engine answered; started dockerd on %s", host)
		}
	}
	if host == "" {
		testenv.Unavailable(t, "%s", skipWhy)
	}
	return host
}

func find() (string, string) {
	tried := candidates
	if h := os.Getenv(client.EnvOverrideHost); h != "" {
		tried = append([]string{h}, candidates...)
	}
	var errs []string
	for _, h := range tried {
		if err := ping(h, 5*time.Second); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", h, err))
			continue
		}
		return h, ""
	}
	why := "no Docker engine answers (" + strings.Join(errs, "; ") + ")"
	bin, err := exec.LookPath("dockerd")
	switch {
	case err != nil:
		return "", why + " and dockerd is not installed (apt-get install docker.io)"
	case os.Geteuid() != 0:
		return "", why + " and starting dockerd needs root"
	case !inMain:
		return "", why + " and the package's TestMain does not call enginetest.Main, which would stop a dockerd started for it"
	}
	d, err := startDaemon(bin)
	if err != nil {
		return "", why + "; starting dockerd: " + err.Error()
	}
	started = d
	return d.host, ""
}

func ping(h string, timeout time.Duration) error {
	c, err := client.New(client.WithHost(h))
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err = c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	return err
}

// daemon is a dockerd this package started.
type daemon struct {
	dir  string
	host string
	cmd  *exec.Cmd
	done chan error
}

// startDaemon starts dockerd with its state under a temporary directory
// and its network set up as usual. Not --bridge=none: a dockerd started so
// deletes the docker0 bridge, and with it the network of any other dockerd
// on the machine.
func startDaemon(bin string) (*daemon, error) {
	dir, err := os.MkdirTemp("", "gitship-dockerd-")
	if err != nil {
		return nil, err
	}
	d := &daemon{dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock"), done: make(chan error, 1)}
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	d.cmd = exec.Command(bin,
		"--data-root", filepath.Join(dir, "root"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"--host", d.host)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C of go test reaches the test binary,
	// which stops dockerd in order.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { d.done <- d.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ping(d.host, time.Second)
		if err == nil {
			return d, nil
		}
		select {
		case werr := <-d.done:
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("dockerd exited (%v):\n%s", werr, testenv.Tail(string(log), 20))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("dockerd did not answer on %s within a minute: %v", d.host, err)
		}
	}
}

// stop ends dockerd the way its service manager would, and removes its
// directory.
func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	_ = os.RemoveAll(d.dir)
}

// BaseImage makes sure the engine at host has BaseImageRef, importing it
// from a root filesystem of busybox-static and its applet links, and
// returns its name. It skips the test when no static busybox is installed,
// or fails it under GITSHIP_TEST_STRICT.
func BaseImage(t testing.TB, host string) string {
	t.Helper()
	return EnsureImage(t, host, BaseImageRef, []string{"ENV PATH=/bin", `CMD ["sh"]`}, func() (io.Reader, error) {
		rootfs, err := imagetest.BusyboxRootfs("linux/" + runtime.GOARCH)
		return bytes.NewReader(rootfs), err
	})
}

// GoImageRef is the image GoImage provides.
const GoImageRef = "gitship-test/go:1"

// GoImage makes sure the engine at host has GoImageRef: the busybox base
// plus the Go toolchain that runs the tests (GOROOT), offline (GOPROXY=off,
// no cgo), so a Dockerfile's build and test stages can run "go build" and
// "go test" without pulling golang:*. Pass it as the GO_IMAGE build arg.
func GoImage(t testing.TB, host string) string {
	t.Helper()
	goroot := runtime.GOROOT()
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		goroot = strings.TrimSpace(string(out))
	}
	return EnsureImage(t, host, GoImageRef, []string{
		"ENV PATH=/usr/local/go/bin:/bin", "ENV GOCACHE=/tmp/gocache", "ENV GOPATH=/tmp/gopath",
		"ENV CGO_ENABLED=0", "ENV GOTOOLCHAIN=local", "ENV GOPROXY=off", `CMD ["sh"]`,
	}, func() (io.Reader, error) {
		rootfs, err := imagetest.BusyboxRootfs("linux/" + runtime.GOARCH)
		if err != nil {
			return nil, err
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(appendGoroot(pw, rootfs, goroot)) }()
		return pr, nil
	})
}

// appendGoroot writes the busybox rootfs tar followed by goroot as
// usr/local/go, leaving out what no build needs (tests, docs, the race
// runtime's archives).
func appendGoroot(w io.Writer, rootfs []byte, goroot string) error {
	tw := tar.NewWriter(w)
	tr := tar.NewReader(bytes.NewReader(rootfs))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return err
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	skip := map[string]bool{"test": true, "api": true, "doc": true, "misc": true}
	err := filepath.WalkDir(goroot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(goroot, p)
		if d.IsDir() && skip[rel] {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(filepath.Join("usr/local/go", rel))
		if d.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// EnsureImage makes sure the engine at host has the image ref, importing
// it from the tar root file system rootfs returns, with changes
// (Dockerfile instructions: "ENV PATH=/bin"), unless the engine has it
// already; it asks the engine once per test binary. When rootfs fails (a
// program it needs is not installed) it skips the test, or fails it under
// GITSHIP_TEST_STRICT.
func EnsureImage(t testing.TB, host, ref string, changes []string, rootfs func() (io.Reader, error)) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	key := host + " " + ref
	if imported[key] {
		return ref
	}
	c, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.ImageInspect(ctx, ref); err == nil {
		imported[key] = true
		return ref
	}
	src, err := rootfs()
	if err != nil {
		testenv.Unavailable(t, "no image %s: %v", ref, err)
	}
	if err := imagetest.Import(ctx, c, ref, src, changes); err != nil {
		t.Fatal(err)
	}
	imported[key] = true
	return ref
}
