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
// Builds use the engine's classic builder, not BuildKit: BuildKit over the API
// needs a client-side session (the docker CLI's buildx) and would fetch the
// Dockerfile frontend named by a "# syntax=" line from a registry, which a CI
// runner behind a proxy or with no network cannot do. The classic builder
// parses the Dockerfile in the engine and pulls nothing it has locally.
//
// An Engine remembers what it creates. Cleanup removes it, on success, on
// failure and on interruption alike:
//
//	e, err := engine.Connect(ctx, "")
//	...
//	defer e.Cleanup(context.WithoutCancel(ctx))
package engine
