package buildkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
)

// ErrUnreachable is wrapped by the errors of a builder that does not answer.
var ErrUnreachable = errors.New("BuildKit unreachable")

// connectTimeout bounds the first call, so a tcp:// address that drops
// packets fails the step instead of hanging it.
const connectTimeout = 20 * time.Second

// Engine is what the Docker engine offers to reach the BuildKit inside it,
// or inside one of its containers; *engine.Engine has it.
type Engine interface {
	DialHijack(ctx context.Context, path, proto string, meta map[string][]string) (net.Conn, error)
	DialExec(ctx context.Context, container string, cmd []string) (net.Conn, error)
	Host() string
}

// TLS names the files of a tcp:// builder's TLS, as buildctl's --tlscacert,
// --tlscert and --tlskey do. Empty means plain TCP.
type TLS struct {
	CA, Cert, Key string
	ServerName    string // "" is the address's host
}

// Builder is a connection to a BuildKit daemon.
type Builder struct {
	c      *client.Client
	name   string   // for the log
	engine bool     // the engine's own BuildKit: it exports into the engine's image store
	plats  []string // platforms its workers build for
}

// Name says which builder this is, for the log.
func (b *Builder) Name() string { return b.name }

// InEngine reports whether this is the Docker engine's own BuildKit, whose
// images land in the engine's image store.
func (b *Builder) InEngine() bool { return b.engine }

// Platforms are the platforms the daemon's workers build for natively or
// through emulation ("linux/amd64", "linux/arm64", ...).
func (b *Builder) Platforms() []string { return b.plats }

// Close ends the connection.
func (b *Builder) Close() error { return b.c.Close() }

// ConnectEngine reaches the BuildKit built into the Docker engine e. An
// engine without one (Podman's API, engines before 19.03) is an error
// wrapping ErrUnreachable.
func ConnectEngine(ctx context.Context, e Engine) (*Builder, error) {
	c, err := client.New(ctx, "",
		client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return e.DialHijack(ctx, "/grpc", "h2c", nil)
		}),
		client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return e.DialHijack(ctx, "/session", proto, meta)
		}))
	if err != nil {
		return nil, fmt.Errorf("%w: the engine at %s: %w", ErrUnreachable, e.Host(), err)
	}
	b := &Builder{c: c, name: "BuildKit in the Docker engine at " + e.Host(), engine: true}
	if err := b.probe(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: the engine at %s serves no BuildKit API: %w", ErrUnreachable, e.Host(), err)
	}
	return b, nil
}

// AddressError is a --builder address that is not one of the forms a
// builder can have.
type AddressError struct {
	Address string
	Reason  string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("builder address %q: %s; want unix:///path/buildkitd.sock, tcp://host:port or docker-container://NAME", e.Address, e.Reason)
}

// CheckAddress finds what would make Connect fail before anything is dialled.
func CheckAddress(addr string, t TLS) error {
	u, err := url.Parse(addr)
	if err != nil {
		return &AddressError{Address: addr, Reason: err.Error()}
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" {
			return &AddressError{Address: addr, Reason: "no socket path"}
		}
	case "tcp":
		if u.Host == "" {
			return &AddressError{Address: addr, Reason: "no host:port"}
		}
	case "docker-container":
		if u.Host == "" {
			return &AddressError{Address: addr, Reason: "no container name"}
		}
	case "":
		return &AddressError{Address: addr, Reason: "no scheme"}
	default:
		return &AddressError{Address: addr, Reason: fmt.Sprintf("unknown scheme %q", u.Scheme)}
	}
	if (t.CA != "" || t.Cert != "" || t.Key != "") && u.Scheme != "tcp" {
		return &AddressError{Address: addr, Reason: "TLS files are for tcp:// builders only"}
	}
	if (t.Cert == "") != (t.Key == "") {
		return &AddressError{Address: addr, Reason: "a TLS client certificate needs its key, and the key its certificate"}
	}
	for _, f := range []string{t.CA, t.Cert, t.Key} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return &AddressError{Address: addr, Reason: fmt.Sprintf("TLS file: %v", err)}
		}
	}
	return nil
}

// Connect reaches a standalone BuildKit at addr: unix:///path, tcp://host:port
// (with t's TLS files) or docker-container://NAME, the last through e's exec.
func Connect(ctx context.Context, addr string, t TLS, e Engine) (*Builder, error) {
	if err := CheckAddress(addr, t); err != nil {
		return nil, err
	}
	u, _ := url.Parse(addr)
	var opts []client.ClientOpt
	name := "buildkitd at " + addr
	switch u.Scheme {
	case "docker-container":
		if e == nil {
			return nil, fmt.Errorf("%w: %s: a docker-container:// builder needs a Docker engine", ErrUnreachable, addr)
		}
		container := u.Host
		opts = append(opts, client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			conn, err := e.DialExec(ctx, container, []string{"buildctl", "dial-stdio"})
			if err != nil {
				return nil, err
			}
			return &prefaceConn{Conn: conn}, nil
		}))
		name = fmt.Sprintf("buildkitd in container %s of the engine at %s", container, e.Host())
		addr = ""
	case "tcp":
		if t.CA != "" {
			sn := t.ServerName
			if sn == "" {
				sn = u.Hostname()
			}
			opts = append(opts, client.WithServerConfig(sn, t.CA))
		}
		if t.Cert != "" {
			opts = append(opts, client.WithCredentials(t.Cert, t.Key))
		}
	}
	c, err := client.New(ctx, addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, name, err)
	}
	b := &Builder{c: c, name: name}
	if err := b.probe(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, name, err)
	}
	return b, nil
}

// probe asks the daemon for its workers: the first call that needs it to
// answer, and what says which platforms it builds for.
func (b *Builder) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	ws, err := b.c.ListWorkers(ctx)
	if err != nil {
		return unwrapGRPC(err)
	}
	seen := map[string]bool{}
	for _, w := range ws {
		for _, p := range w.Platforms {
			s := p.OS + "/" + p.Architecture
			if p.Variant != "" {
				s += "/" + p.Variant
			}
			if !seen[s] {
				seen[s] = true
				b.plats = append(b.plats, s)
			}
		}
	}
	return nil
}

// FrontendVersion is the version of the Dockerfile frontend this binary
// runs in-process: moby/buildkit's, as go.mod pins it.
func FrontendVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/moby/buildkit" {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}

// unwrapGRPC shortens gRPC's "rpc error: code = Unavailable desc = ..." to
// what happened.
func unwrapGRPC(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "desc = "); i >= 0 {
		return errors.New(msg[i+len("desc = "):])
	}
	return err
}

// prefaceConn fails the first read with what the other end said when it
// does not start the way an HTTP/2 server does, with a SETTINGS frame
// (RFC 9113, 3.4): when the exec of `buildctl dial-stdio` fails (no
// buildctl in the container), the engine writes its error to the exec's
// output, which gRPC would otherwise report as "http2: frame too large".
type prefaceConn struct {
	net.Conn
	checked bool
	buf     []byte
}

func (c *prefaceConn) Read(p []byte) (int, error) {
	if c.checked {
		if len(c.buf) > 0 {
			n := copy(p, c.buf)
			c.buf = c.buf[n:]
			return n, nil
		}
		return c.Conn.Read(p)
	}
	c.checked = true
	head := make([]byte, 9) // an HTTP/2 frame header
	n, err := io.ReadFull(c.Conn, head)
	if err == nil && head[3] == 0x4 { // SETTINGS
		c.buf = head
		return c.Read(p)
	}
	rest, _ := io.ReadAll(io.LimitReader(c.Conn, 1024))
	said := strings.TrimSpace(string(append(head[:n], rest...)))
	if said == "" {
		return 0, fmt.Errorf("buildctl dial-stdio ended without answering: %v", err)
	}
	return 0, fmt.Errorf("not BuildKit: %s", said)
}
