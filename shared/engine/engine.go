package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// DefaultHost is the socket tried when neither the caller nor DOCKER_HOST
// names one: where Docker listens on Linux, and where GitHub runners, Azure
// agents and Cloud Build provide it to a step.
const DefaultHost = client.DefaultDockerHost

// ErrNoEngine is returned (wrapped in a *ConnectError) when no container
// engine answers.
var ErrNoEngine = errors.New("no container engine reachable")

// ConnectError says which socket was tried, where that choice came from and
// how to provide one.
type ConnectError struct {
	Host   string // the address tried, e.g. unix:///var/run/docker.sock
	Source string // where Host came from: "DOCKER_HOST", "the default" or "given"
	Err    error  // why it failed
}

func (e *ConnectError) Error() string {
	// The client's own message repeats the address and guesses; the
	// network error alone says what happened.
	cause := e.Err
	var op *net.OpError
	if errors.As(e.Err, &op) {
		cause = op
	}
	return fmt.Sprintf("%v at %s (%s): %v; start Docker, or point DOCKER_HOST at a Docker-compatible socket: "+
		"in a container, mount the host's socket (-v /var/run/docker.sock:/var/run/docker.sock); "+
		"for Podman, run `systemctl --user enable --now podman.socket` and set DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock",
		ErrNoEngine, e.Host, e.Source, cause)
}

// Unwrap makes errors.Is(err, ErrNoEngine) hold, and reaches the cause.
func (e *ConnectError) Unwrap() []error { return []error{ErrNoEngine, e.Err} }

// connectTimeout bounds the first ping: a tcp:// host that drops packets
// should fail the step, not hang it.
const connectTimeout = 30 * time.Second

// Engine is a connection to a container engine that remembers the
// containers and images it creates, so that Cleanup can remove them.
// Its methods are safe for concurrent use.
type Engine struct {
	client *client.Client
	host   string

	keepCache bool

	mu         sync.Mutex
	containers []string   // names of the containers Run created, in order
	builds     []buildRec // what each Build created, in order
}

// Option configures an Engine.
type Option func(*Engine)

// KeepBuildCache makes Cleanup leave the layers builds created, so the next
// build on the same engine finds them in its cache, as docker build does.
// Cleanup then removes only the containers and the resulting images of
// builds not kept; the layers below them stay (docker images shows the top
// of each such chain as <none>). Without it, Cleanup removes every image the
// builds created except the kept ones and what they are built on, which
// leaves the engine as it was but rebuilds everything next time.
func KeepBuildCache() Option { return func(e *Engine) { e.keepCache = true } }

// Connect opens a connection to the engine at host and checks that it
// answers. An empty host means DOCKER_HOST, or DefaultHost when that is
// unset; DOCKER_API_VERSION, DOCKER_CERT_PATH and DOCKER_TLS_VERIFY apply
// as they do for the docker CLI. The API version is negotiated down to the
// engine's. A failure is a *ConnectError.
func Connect(ctx context.Context, host string, opts ...Option) (*Engine, error) {
	source := "given"
	if host == "" {
		host, source = os.Getenv(client.EnvOverrideHost), "DOCKER_HOST"
		if host == "" {
			host, source = DefaultHost, "the default"
		}
	}
	c, err := client.New(client.FromEnv, client.WithHost(host), client.WithUserAgent("gitship"))
	if err != nil {
		return nil, &ConnectError{Host: host, Source: source, Err: err}
	}
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if _, err := c.Ping(pingCtx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, &ConnectError{Host: host, Source: source, Err: err}
	}
	e := &Engine{client: c, host: host}
	for _, o := range opts {
		o(e)
	}
	return e, nil
}

// Host is the address of the engine, for logs.
func (e *Engine) Host() string { return e.host }

// APIVersion is the API version negotiated with the engine.
func (e *Engine) APIVersion() string { return e.client.ClientVersion() }

// Close releases the connection. It removes nothing: call Cleanup first.
func (e *Engine) Close() error { return e.client.Close() }

// Platform is the engine's own platform ("linux/amd64"): what a container
// of it runs without emulation.
func (e *Engine) Platform(ctx context.Context) (string, error) {
	v, err := e.client.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", fmt.Errorf("engine %s: version: %w", e.host, err)
	}
	return v.Os + "/" + v.Arch, nil
}
