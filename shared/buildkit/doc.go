// Package buildkit builds Dockerfiles with BuildKit, the builder the docker
// CLI, buildx, Azure's Docker@2 and Cloud Build's docker builder all use:
// cache and secret mounts, heredocs, COPY --link, named build contexts,
// registry and GitHub Actions caches, several platforms at once.
//
// It is a client of a BuildKit daemon, found in one of three places:
//
//   - the Docker engine's own BuildKit, reached through the Engine API's
//     /grpc and /session endpoints as buildx's "docker" driver does
//     (the /grpc endpoint since Docker 19.03; the Debian 20.10 engine here included);
//   - a standalone buildkitd at unix:// or tcp:// (with TLS files), how a
//     team shares one builder and one cache between runners;
//   - a buildkitd in a container of the engine, docker-container://NAME,
//     reached with `buildctl dial-stdio` through the Engine API's exec.
//
// The Dockerfile frontend runs in this process (moby/buildkit's
// frontend/dockerfile/builder at the version go.mod pins), not in the
// daemon: an old engine's own frontend lacks heredocs and newer flags, and a
// "# syntax=" image may not be reachable from a CI runner. A "# syntax="
// line is honoured when its image can be resolved; otherwise the built-in
// frontend builds, and the log says so.
//
// The build's context and Dockerfile are sent by the session's filesync,
// honouring .dockerignore as docker build does; secrets and SSH agents are
// served by the session too and never written anywhere.
package buildkit
