// Package buildkittest runs a real standalone buildkitd for tests: the
// daemon of moby/buildkit at the version gitship's go.mod pins, built
// from tools/buildkitd once per machine, run as root with the system's
// runc (Debian's runc package) on a unix socket, or on loopback TCP with
// mutual TLS from a CA made for the test, or in a container of the Docker
// engine (StartContainer), as buildx's docker-container driver runs it.
//
// Tests that need it skip when they cannot have it (not root, no runc,
// the build fails), or fail when GITSHIP_TEST_STRICT is set, as .ci/run
// does.
package buildkittest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// Daemon is a running buildkitd.
type Daemon struct {
	// Addr is what a BuildKit client dials: "unix:///tmp/.../buildkitd.sock",
	// or "tcp://127.0.0.1:PORT" from StartTCP.
	Addr string
	// Dir holds the socket, the configuration and Root; it is removed
	// when the test ends.
	Dir string
	// Root is buildkitd's state directory (--root): its cache and
	// snapshots. A new Daemon starts with an empty cache.
	Root string
	// Platforms are the platforms the worker reports it can run, e.g.
	// "linux/amd64", and "linux/arm64" when QEMU's binfmt handlers are
	// registered.
	Platforms []string

	// From StartTCP: the CA that signed the daemon's certificate, and a
	// client certificate and key it accepts (PEM files), as a client
	// gets them with --tlscacert, --tlscert and --tlskey. ServerName is
	// the name the daemon's certificate is valid for.
	CACert, Cert, Key string
	ServerName        string

	cmd    *exec.Cmd
	exited chan struct{}
	log    *syncBuffer
	once   sync.Once
}

// Option changes how Start runs the daemon.
type Option func(*options)

type options struct {
	insecure []string
	config   []string
	args     []string
	tcp      bool
}

// WithInsecureRegistry lets the daemon push to and pull from the
// registries at hosts ("127.0.0.1:5000") over plain HTTP, or HTTPS with
// any certificate: `http = true` and `insecure = true` in buildkitd.toml,
// what a loopback test registry needs for images and registry caches.
func WithInsecureRegistry(hosts ...string) Option {
	return func(o *options) { o.insecure = append(o.insecure, hosts...) }
}

// WithConfig appends TOML to the daemon's buildkitd.toml.
func WithConfig(toml string) Option {
	return func(o *options) { o.config = append(o.config, toml) }
}

// WithArgs appends command-line flags, e.g. "--debug".
func WithArgs(args ...string) Option {
	return func(o *options) { o.args = append(o.args, args...) }
}

// Start runs buildkitd on a unix socket until the test ends, and waits
// until it answers. It skips the test when it cannot run one (not root,
// no runc, buildkitd does not build), or fails it when
// GITSHIP_TEST_STRICT is set.
func Start(t testing.TB, opts ...Option) *Daemon {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return start(t, o)
}

// StartTCP runs buildkitd on tcp://127.0.0.1:PORT with mutual TLS, as a
// remote builder is run: the daemon's certificate and the client's come
// from a CA made for the test (Daemon.CACert, Cert, Key).
func StartTCP(t testing.TB, opts ...Option) *Daemon {
	t.Helper()
	o := options{tcp: true}
	for _, opt := range opts {
		opt(&o)
	}
	return start(t, o)
}

// toml is the daemon's buildkitd.toml.
func (o options) toml() []byte {
	var cfg strings.Builder
	for _, h := range o.insecure {
		fmt.Fprintf(&cfg, "[registry.%q]\n  http = true\n  insecure = true\n\n", h)
	}
	for _, c := range o.config {
		cfg.WriteString(c + "\n")
	}
	return []byte(cfg.String())
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	unavailableWhat(t, "buildkitd", format, args...)
}

// unavailableWhat skips the test, or fails it under GITSHIP_TEST_STRICT.
func unavailableWhat(t testing.TB, what, format string, args ...any) {
	t.Helper()
	why := what + ": " + fmt.Sprintf(format, args...)
	if os.Getenv("GITSHIP_TEST_STRICT") != "" {
		t.Fatal(why + "; GITSHIP_TEST_STRICT is set")
	}
	t.Skip(why)
}

func start(t testing.TB, o options) *Daemon {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "the tests run buildkitd as root, and this is uid %d", os.Geteuid())
	}
	if _, err := exec.LookPath("runc"); err != nil {
		unavailable(t, "runc is not installed (apt-get install -y runc)")
	}
	bin := Binary(t)

	// Not t.TempDir: a unix socket path has to stay under 108 bytes.
	dir, err := os.MkdirTemp("", "gitship-buildkitd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Dir: dir, Root: filepath.Join(dir, "root"), log: &syncBuffer{}, exited: make(chan struct{})}
	t.Cleanup(func() {
		d.Stop()
		if err := removeAll(dir); err != nil {
			t.Errorf("buildkitd: remove %s: %v", dir, err)
		}
	})

	config := filepath.Join(dir, "buildkitd.toml")
	write(t, config, o.toml())

	args := []string{
		"--root", d.Root,
		"--config", config,
		"--oci-worker-net=host",
		"--containerd-worker=false",
	}
	var copts []client.ClientOpt
	if o.tcp {
		d.Addr = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
		d.ServerName = "127.0.0.1"
		d.CACert, d.Cert, d.Key = certificates(t, dir)
		args = append(args, "--addr", d.Addr,
			"--tlscacert", d.CACert,
			"--tlscert", filepath.Join(dir, "server.pem"),
			"--tlskey", filepath.Join(dir, "server-key.pem"))
	} else {
		d.Addr = "unix://" + filepath.Join(dir, "buildkitd.sock")
		args = append(args, "--addr", d.Addr)
	}
	copts = d.ClientOpts()
	args = append(args, o.args...)

	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	// Its own process group, so that a signal to the test's group
	// (Ctrl-C) does not reach it before Stop does.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("buildkitd %s log:\n%s", d.Addr, tail(d.Log(), 60))
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		ws, err := listWorkers(ctx, d.Addr, copts)
		if err == nil && len(ws) > 0 {
			for _, w := range ws {
				for _, p := range w.Platforms {
					s := p.OS + "/" + p.Architecture
					if p.Variant != "" {
						s += "/" + p.Variant
					}
					d.Platforms = append(d.Platforms, s)
				}
			}
			return d
		}
		select {
		case <-d.exited:
			t.Fatalf("buildkitd exited: %v\n%s", d.cmd.ProcessState, tail(d.Log(), 60))
		case <-ctx.Done():
			t.Fatalf("buildkitd did not answer on %s within a minute: %v\n%s", d.Addr, err, tail(d.Log(), 60))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func listWorkers(ctx context.Context, addr string, opts []client.ClientOpt) ([]*client.WorkerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr, opts...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ListWorkers(ctx)
}

// ClientOpts are the options a BuildKit client needs to reach the daemon
// beyond its address: the TLS files for a daemon from StartTCP.
func (d *Daemon) ClientOpts() []client.ClientOpt {
	if d.CACert == "" {
		return nil
	}
	return []client.ClientOpt{client.WithServerConfig(d.ServerName, d.CACert), client.WithCredentials(d.Cert, d.Key)}
}

// Client is a BuildKit client connected to the daemon, closed when the
// test ends.
func (d *Daemon) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(context.Background(), d.Addr, d.ClientOpts()...)
	if err != nil {
		t.Fatalf("buildkit client for %s: %v", d.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Log is what the daemon has logged so far.
func (d *Daemon) Log() string { return d.log.String() }

// Has reports whether the worker runs platform ("linux/arm64").
func (d *Daemon) Has(platform string) bool {
	for _, p := range d.Platforms {
		if p == platform {
			return true
		}
	}
	return false
}

// Stop ends the daemon: SIGTERM, then SIGKILL after ten seconds. The test's
// clean-up calls it; a test calls it itself to see what a client does when
// its builder goes away.
func (d *Daemon) Stop() {
	d.once.Do(func() {
		if d.cmd == nil || d.cmd.Process == nil {
			return
		}
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			d.cmd.Process.Kill()
			<-d.exited
		}
	})
}

// removeAll removes dir, first unmounting what a killed buildkitd left
// mounted under it.
func removeAll(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil {
		return nil
	}
	data, rerr := os.ReadFile("/proc/self/mountinfo")
	if rerr != nil {
		return err
	}
	var mounts []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			mounts = append(mounts, f[4])
		}
	}
	// Deepest first.
	for i := len(mounts) - 1; i >= 0; i-- {
		syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
	return os.RemoveAll(dir)
}

var build struct {
	once sync.Once
	bin  string
	err  error
}

// Version is the moby/buildkit version tools/buildkitd pins, e.g.
// "v0.34.2".
func Version() (string, error) {
	src, err := toolDir("buildkitd")
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "github.com/moby/buildkit" {
			return f[1], nil
		}
		if len(f) >= 3 && f[0] == "require" && f[1] == "github.com/moby/buildkit" {
			return f[2], nil
		}
	}
	return "", fmt.Errorf("%s: no requirement of github.com/moby/buildkit", filepath.Join(src, "go.mod"))
}

// Binary is the buildkitd executable. GITSHIP_BUILDKITD names one
// already built; otherwise it is built from tools/buildkitd once per
// machine, with the modules already in the module cache (.ci/run runs
// `go mod download` there first; no test downloads anything), into
// $XDG_CACHE_HOME/gitship-test/buildkitd-VERSION-SUM/, SUM a hash of
// tools/buildkitd's go.mod and go.sum. A cold build takes a minute or
// more. It skips the test when the build fails, or fails it under
// GITSHIP_TEST_STRICT.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.bin, build.err = buildBinary() })
	if build.err != nil {
		unavailable(t, "%v", build.err)
	}
	return build.bin
}

func buildBinary() (string, error) {
	return buildTool("GITSHIP_BUILDKITD", "github.com/moby/buildkit/cmd/buildkitd")
}

// buildTool builds the command pkg of tools/buildkitd's module, static,
// into the cache directory Binary describes, once per machine, unless the
// environment variable env names one already built.
func buildTool(env, pkg string) (string, error) {
	if bin := os.Getenv(env); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("%s: %w", env, err)
		}
		return bin, nil
	}
	src, err := toolDir("buildkitd")
	if err != nil {
		return "", err
	}
	version, err := Version()
	if err != nil {
		return "", err
	}
	sum := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", err
		}
		sum.Write(data)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "gitship-test", "buildkitd-"+version+"-"+hex.EncodeToString(sum.Sum(nil))[:12])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
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
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, pkg)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build %s in %s: %v\n%s(run `go mod download` in tools/buildkitd first)", pkg, src, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// toolDir finds tools/NAME from the test's working directory, somewhere
// under the repository.
func toolDir(name string) (string, error) {
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

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
