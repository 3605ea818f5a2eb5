package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// RunOptions is the container to run.
type RunOptions struct {
	Image      string   // an image ID or name
	Cmd        []string // argv; nil runs the image's CMD
	Env        []string // "KEY=value"
	WorkingDir string   // "" is the image's
	// Binds mount host paths, "host:container[:ro]", as docker run -v.
	Binds []string
	// NetworkMode is "" (the engine's default bridge) or "host", as
	// docker run --network.
	NetworkMode string
}

// outputGrace is how long Run waits, once the container has exited, for
// the last of its output to arrive.
const outputGrace = 10 * time.Second

// Run creates a container from o.Image, streams its output to stdout and
// stderr while it runs (both written from one goroutine), and returns its
// exit code, -1 with an error when it could not run. The container is
// kept, stopped, for CopyOut until Cleanup. When ctx ends first the
// container is killed and ctx's error returned.
func (e *Engine) Run(ctx context.Context, o RunOptions, stdout, stderr io.Writer) (exitCode int, containerID string, err error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	// A name chosen here, recorded before the container exists, lets
	// Cleanup remove it even if the create call is interrupted after the
	// engine acted on it.
	name := "gitship-" + randomHex(8)
	e.mu.Lock()
	e.containers = append(e.containers, name)
	e.mu.Unlock()

	created, err := e.client.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image:        o.Image,
			Cmd:          o.Cmd,
			Env:          o.Env,
			WorkingDir:   o.WorkingDir,
			AttachStdout: true,
			AttachStderr: true,
		},
		HostConfig: &container.HostConfig{Binds: o.Binds, NetworkMode: container.NetworkMode(o.NetworkMode)},
	})
	if err != nil {
		return -1, "", fmt.Errorf("create container from %s: %w", o.Image, err)
	}
	id := created.ID

	// Attach and wait before starting, so no output and no exit is missed.
	att, err := e.client.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return -1, id, fmt.Errorf("attach to container %s: %w", short(id), err)
	}
	defer att.Close()
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(stdout, stderr, att.Reader)
		copied <- err
	}()
	wait := e.client.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})

	if _, err := e.client.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		if ctx.Err() != nil {
			// The engine may have started it all the same.
			return -1, id, e.interrupted(ctx, id)
		}
		return -1, id, fmt.Errorf("start container %s: %w", short(id), err)
	}

	select {
	case res := <-wait.Result:
		if res.Error != nil && res.Error.Message != "" {
			return -1, id, fmt.Errorf("wait for container %s: %s", short(id), res.Error.Message)
		}
		exitCode = int(res.StatusCode)
	case err := <-wait.Error:
		if ctx.Err() != nil {
			return -1, id, e.interrupted(ctx, id)
		}
		return -1, id, fmt.Errorf("wait for container %s: %w", short(id), err)
	case <-ctx.Done():
		return -1, id, e.interrupted(ctx, id)
	}

	// The attach stream ends once the engine has sent everything the
	// container wrote.
	select {
	case err := <-copied:
		if err != nil {
			return exitCode, id, fmt.Errorf("output of container %s: %w", short(id), err)
		}
	case <-time.After(outputGrace):
	case <-ctx.Done():
	}
	return exitCode, id, nil
}

// interrupted kills a container whose run was cancelled and waits until it
// has stopped, so that it is stopped even if Cleanup is skipped (--keep).
func (e *Engine) interrupted(ctx context.Context, id string) error {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := e.client.ContainerKill(kctx, id, client.ContainerKillOptions{Signal: "KILL"}); err == nil {
		wait := e.client.ContainerWait(kctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case <-wait.Result:
		case <-wait.Error:
		}
	}
	return fmt.Errorf("run container %s: %w", short(id), ctx.Err())
}

// short is an ID as docker prints it.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
