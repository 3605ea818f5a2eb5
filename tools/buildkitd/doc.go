// Package buildkitd pins moby/buildkit's daemon at the version gitship's
// go.mod requires, for the tests that build with a standalone BuildKit
// (internal/buildkittest builds and starts it).
//
// It is its own module because buildkit's go.mod carries exclude
// directives, which `go install github.com/moby/buildkit/cmd/buildkitd@v0.34.2`
// refuses; go.mod here copies them in and names the daemon with a tool
// directive, so that `go mod tidy` and `go mod download` keep all it needs:
//
//	go mod download
//	GOPROXY=off go build -o buildkitd github.com/moby/buildkit/cmd/buildkitd
package buildkitd
