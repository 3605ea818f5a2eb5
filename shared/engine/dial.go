package engine

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// DialHijack upgrades a request to path into a raw connection to the
// engine, as the docker CLI does to reach the engine's BuildKit: "/grpc"
// with proto "h2c" is its control API, "/session" with proto "h2c" and the
// session's headers in meta carries the build's session.
func (e *Engine) DialHijack(ctx context.Context, path, proto string, meta map[string][]string) (net.Conn, error) {
	conn, err := e.client.DialHijack(ctx, path, proto, meta)
	if err != nil {
		return nil, fmt.Errorf("engine %s: %s: %w", e.host, path, err)
	}
	return conn, nil
}

// DialExec runs cmd in a running container and returns its standard input
// and output as one connection: how `buildctl dial-stdio` in a BuildKit
// container (buildx's docker-container driver) is reached without a docker
// CLI. What cmd writes to its standard error is discarded.
func (e *Engine) DialExec(ctx context.Context, container string, cmd []string) (net.Conn, error) {
	ex, err := e.client.ExecCreate(ctx, container, client.ExecCreateOptions{
		AttachStdin: true, AttachStdout: true, AttachStderr: true, Cmd: cmd})
	if err != nil {
		return nil, fmt.Errorf("container %s: exec %v: %w", container, cmd, err)
	}
	res, err := e.client.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("container %s: attach to %v: %w", container, cmd, err)
	}
	// Without a TTY the engine multiplexes stdout and stderr in frames.
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, io.Discard, res.Reader)
		pw.CloseWithError(err)
	}()
	return &execConn{Conn: res.Conn, r: pr}, nil
}

// execConn reads the demultiplexed stdout and writes the exec's stdin.
type execConn struct {
	net.Conn
	r *io.PipeReader
}

func (c *execConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *execConn) Close() error {
	c.r.Close()
	return c.Conn.Close()
}
