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
	"debug/elf"
	"encoding/json"
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

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
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
		if os.Getenv("GITSHIP_TEST_STRICT") != "" {
			t.Fatal(skipWhy + "; GITSHIP_TEST_STRICT is set")
		}
		t.Skip(skipWhy)
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
			return nil, fmt.Errorf("dockerd exited (%v):\n%s", werr, tail(string(log), 20))
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

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// BaseImage makes sure the engine at host has BaseImageRef, importing it
// from a root filesystem of busybox-static and its applet links, and
// returns its name. It skips the test when no static busybox is installed.
func BaseImage(t testing.TB, host string) string {
	t.Helper()
	return ensureImage(t, host, BaseImageRef, []string{"ENV PATH=/bin", `CMD ["sh"]`}, func() (io.Reader, error) {
		rootfs, err := busyboxRootfs()
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
	return ensureImage(t, host, GoImageRef, []string{
		"ENV PATH=/usr/local/go/bin:/bin", "ENV GOCACHE=/tmp/gocache", "ENV GOPATH=/tmp/gopath",
		"ENV CGO_ENABLED=0", "ENV GOTOOLCHAIN=local", "ENV GOPROXY=off", `CMD ["sh"]`,
	}, func() (io.Reader, error) {
		rootfs, err := busyboxRootfs()
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

// ensureImage imports ref into the engine at host from the tar rootfs
// returns, once per test binary, unless the engine has it already.
func ensureImage(t testing.TB, host, ref string, changes []string, rootfs func() (io.Reader, error)) string {
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
		t.Skipf("no image %s: %v", ref, err)
	}
	res, err := c.ImageImport(ctx, client.ImageImportSource{Source: src, SourceName: "-"}, ref,
		client.ImageImportOptions{Changes: changes})
	if err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
	defer res.Close()
	dec := json.NewDecoder(res)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("import %s: %v", ref, err)
		}
		if m.Error != nil {
			t.Fatalf("import %s: %s", ref, m.Error.Message)
		}
	}
	imported[key] = true
	return ref
}

// busyboxRootfs is a tar of /bin/busybox, a link per applet and the
// directories programs expect.
func busyboxRootfs() ([]byte, error) {
	bin, err := exec.LookPath("busybox")
	if err != nil {
		return nil, errors.New("busybox is not installed (apt-get install busybox-static)")
	}
	if bin, err = filepath.EvalSymlinks(bin); err != nil {
		return nil, err
	}
	if err := checkStatic(bin); err != nil {
		return nil, err
	}
	list, err := exec.Command(bin, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %v", bin, err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	for _, d := range []struct {
		name string
		mode int64
	}{{"bin/", 0o755}, {"etc/", 0o755}, {"root/", 0o700}, {"tmp/", 0o1777}} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(data)), ModTime: mtime}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkStatic refuses a dynamically linked busybox: the image has no
// libc for it.
func checkStatic(bin string) error {
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("%s: %v", bin, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (apt-get install busybox-static)", bin)
		}
	}
	return nil
}
