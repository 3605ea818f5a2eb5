package engine_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/shared/engine"
)

// The example app's own Dockerfile: its test stage runs "go test" inside
// the container, on a Go image made from the local toolchain (nothing can
// be pulled), and a failing test fails the run with its output.
func TestExampleAppTestsInContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the example app in a container")
	}
	e, _ := setup(t)
	host := enginetest.Daemon(t)
	args := map[string]string{
		"GO_IMAGE":      enginetest.GoImage(t, host),
		"RUNTIME_IMAGE": enginetest.BaseImage(t, host),
	}
	for _, tt := range []struct {
		name     string
		plant    string // a test file added to the app
		wantCode int
		want     string
	}{
		{"passing", "", 0, "--- PASS: TestGreeting"},
		{"planted failure", "package main\n\nimport \"testing\"\n\nfunc TestPlanted(t *testing.T) { t.Fatal(\"planted failure\") }\n",
			1, "planted failure"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := exampleApp(t)
			if tt.plant != "" {
				files["planted_test.go"] = tt.plant
			}
			dir := contextDir(t, files)
			var log bytes.Buffer
			image, err := e.Build(context.Background(), engine.BuildOptions{ContextDir: dir, Target: "test", BuildArgs: args}, &log)
			if err != nil {
				t.Fatalf("Build: %v\n%s", err, log.String())
			}
			var stdout, stderr bytes.Buffer
			code, _, err := e.Run(context.Background(), engine.RunOptions{Image: image}, &stdout, &stderr)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			out := stdout.String() + stderr.String()
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Errorf("go test in the container: exit %d, want %d with %q in:\n%s", code, tt.wantCode, tt.want, out)
			}
		})
	}
}

// exampleApp reads the files at the top of examples/app: what its
// Dockerfile copies.
func exampleApp(t *testing.T) map[string]string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", "app")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, d := range entries {
		if d.Type().IsRegular() {
			data, err := os.ReadFile(filepath.Join(src, d.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[d.Name()] = string(data)
		}
	}
	return files
}
