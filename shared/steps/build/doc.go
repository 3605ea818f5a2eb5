// Package build is the build step: build a Dockerfile's test stage, run the
// tests inside a container from it, then build the image that ships,
// labelled with the commit it comes from, and hand it on (left in the engine,
// or written as an OCI image layout for publish).
//
// What is tested is the container, not the code on the runner: the test
// stage is built by the same engine and from the same Dockerfile as the
// final image.
package build
