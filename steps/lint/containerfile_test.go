package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestContainerfileNames: podman's names are Dockerfiles too. A
// Containerfile.<name> is found by the search of a directory and linted
// when named by --path, where it used to be skipped and refused (exit 2).
func TestContainerfileNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"Containerfile.prod", "worker.containerfile"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("FROM alpine:latest\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		args  []string
		files []string
	}{
		{"search", nil, []string{"Containerfile.prod", "worker.containerfile"}},
		{"path", []string{"--path", "Containerfile.prod"}, []string{"Containerfile.prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, dir, nil, append(tt.args, "--fail-on", "warning")...)
			if res.Code != 1 {
				t.Errorf("exit code = %d, want 1 (DL3007 at warning)\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
			}
			for _, f := range tt.files {
				if want := f + ":1:6: warning:"; !strings.Contains(res.Stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
				}
			}
			if !strings.Contains(res.Stdout, "Linting "+string(rune('0'+len(tt.files)))+" Dockerfiles") {
				t.Errorf("stdout does not count %d Dockerfiles:\n%s", len(tt.files), res.Stdout)
			}
		})
	}
}
