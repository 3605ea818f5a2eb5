// Package imagesource reads the image publish pushes, one file per
// source as go-containerregistry keeps layout, tarball and daemon apart:
// oci:DIR (an OCI image layout, layout.go), tarball:FILE (docker save,
// tarball.go) and docker:REF (the engine at DOCKER_HOST, engine.go). It
// is apart from the registry client so that only what reads from the
// engine links the Docker client; the registry package pushes what this
// one returns.
package imagesource
