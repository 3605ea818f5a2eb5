// Package engine builds images and runs containers through the Docker Engine
// API: build a Dockerfile up to a stage, run a command in a container from the
// result, copy a file out of the finished container, export an image, and
// remove everything it created.
//
// It speaks the HTTP API with the official Go client (github.com/moby/moby/client,
// the module the docker CLI itself uses since Docker 29), negotiating the API
// version down to what the engine serves: Docker 20.10 (API 1.41) and later,
// and Podman's Docker-compatible socket. Nothing shells out to a docker CLI.
//
// Build uses the engine's classic builder: the build step's fallback when
// the engine serves no BuildKit API (Podman, engines before 19.03) or with
// --builder classic. BuildKit builds go through package buildkit, which
// reaches the engine's own BuildKit with DialHijack (/grpc, /session) or a
// buildkitd in a container with DialExec; Adopt hands what it exports into
// the engine to Cleanup.
//
// An Engine remembers what it creates. Cleanup removes it, on success, on
// failure and on interruption alike:
//
//	e, err := engine.Connect(ctx, "")
//	...
//	defer e.Cleanup(context.WithoutCancel(ctx))
package engine
