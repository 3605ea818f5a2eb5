// Package act pins nektos/act, the GitHub Actions emulator, for the test
// that runs examples/pipelines' GitHub workflow with the real step images
// (internal/acttest builds it once per machine; examples/pipelines'
// tests run it).
//
// It is its own module so that act's many dependencies stay out of
// gitship's go.mod; go.mod here names act with a tool directive, so that
// `go mod tidy` and `go mod download` keep all it needs:
//
//	go mod download
//	GOPROXY=off go build -o act github.com/nektos/act
package act
