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
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/testenv"
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
	log    *testenv.Log
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

// unavailable skips the test, or fails it under GITSHIP_TEST_STRICT,
// saying what buildkitd lacks.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Unavailable(t, "buildkitd: "+format, args...)
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
	d := &Daemon{Dir: dir, Root: filepath.Join(dir, "root"), log: &testenv.Log{}, exited: make(chan struct{})}
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
		d.Addr = fmt.Sprintf("tcp://127.0.0.1:%d", testenv.FreePort(t))
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
			t.Logf("buildkitd %s log:\n%s", d.Addr, testenv.Tail(d.Log(), 60))
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
			t.Fatalf("buildkitd exited: %v\n%s", d.cmd.ProcessState, testenv.Tail(d.Log(), 60))
		case <-ctx.Done():
			t.Fatalf("buildkitd did not answer on %s within a minute: %v\n%s", d.Addr, err, testenv.Tail(d.Log(), 60))
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

// Version is the moby/buildkit version tools/buildkitd pins, e.g.
// "v0.34.2".
func Version() (string, error) {
	return gotool.Version("buildkitd", "github.com/moby/buildkit")
}

// Binary is the buildkitd executable. GITSHIP_BUILDKITD names one
// already built; otherwise it is built from tools/buildkitd once per
// machine (gotool.Build: into $XDG_CACHE_HOME/gitship-test/, with the
// modules already in the module cache). A cold build takes a minute or
// more. It skips the test when the build fails, or fails it under
// GITSHIP_TEST_STRICT.
func Binary(t testing.TB) string {
	t.Helper()
	return buildkitCommand(t, "GITSHIP_BUILDKITD", "github.com/moby/buildkit/cmd/buildkitd")
}

// Command is the command pkg of the moby/buildkit module tools/buildkitd
// pins ("github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend"),
// built as Binary is. It skips the test when the build fails, or fails it
// under GITSHIP_TEST_STRICT.
func Command(t testing.TB, pkg string) string {
	t.Helper()
	return buildkitCommand(t, "", pkg)
}

// buildkitCommand is Command, or the executable the environment variable
// env names.
func buildkitCommand(t testing.TB, env, pkg string) string {
	t.Helper()
	bin, err := gotool.Build(gotool.Command{Tool: "buildkitd", Module: "github.com/moby/buildkit", Package: pkg, Env: env})
	if err != nil {
		unavailable(t, "%v", err)
	}
	return bin
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
