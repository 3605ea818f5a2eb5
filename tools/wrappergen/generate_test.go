package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tempRoot is an empty repository with only the shim source in it.
func tempRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	shim, err := os.ReadFile(filepath.Join(repoRoot, ShimSource))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, ShimSource)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, shim, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func runGen(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCheckThenWrite(t *testing.T) {
	root := tempRoot(t)
	want := []string{
		"steps/lint/action.yml", "action.yml", "azure-pipelines-task/vss-extension.json",
		"azure-pipelines-task/LintV1/task.json", "azure-pipelines-task/LintV1/index.js",
		"azure-pipelines-task/LintV1/step.json", "docs/steps/lint.md",
	}

	code, _, stderr := runGen("-root", root, "-check")
	if code != 1 {
		t.Fatalf("-check on an empty root = %d, want 1", code)
	}
	for _, f := range want {
		if !strings.Contains(stderr, f+" (missing)") {
			t.Errorf("-check does not report %s missing:\n%s", f, stderr)
		}
	}

	if code, _, stderr := runGen("-root", root); code != 0 {
		t.Fatalf("write = %d: %s", code, stderr)
	}
	if code, _, stderr := runGen("-root", root, "-check"); code != 0 {
		t.Fatalf("-check after write = %d: %s", code, stderr)
	}

	// The task folder carries the shim as tfx packs it: the source, marked
	// as generated.
	src, _ := os.ReadFile(filepath.Join(root, ShimSource))
	cp, err := os.ReadFile(filepath.Join(root, "azure-pipelines-task/LintV1/index.js"))
	if err != nil || !bytes.Equal(cp, append([]byte(shimHeader), src...)) {
		t.Errorf("LintV1/index.js is not the shim source (err %v)", err)
	}

	edit := filepath.Join(root, "azure-pipelines-task/LintV1/task.json")
	if err := os.WriteFile(edit, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(root, "docs/steps/removed.md")
	if err := os.WriteFile(old, []byte("# gone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runGen("-root", root, "-check")
	if code != 1 {
		t.Fatalf("-check after an edit = %d, want 1", code)
	}
	for _, line := range []string{"azure-pipelines-task/LintV1/task.json\n", "docs/steps/removed.md (no step generates it)", "go run ./tools/wrappergen"} {
		if !strings.Contains(stderr, line) {
			t.Errorf("-check output lacks %q:\n%s", line, stderr)
		}
	}
	if strings.Contains(stderr, "steps/lint/action.yml") {
		t.Errorf("-check reports an unchanged file:\n%s", stderr)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"unknown flag", []string{"-nope"}, 2},
		{"argument", []string{"extra"}, 2},
		{"no shim", []string{"-root", "/nonexistent", "-check"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, stderr := runGen(tt.args...); code != tt.code {
				t.Errorf("run(%v) = %d, want %d: %s", tt.args, code, tt.code, stderr)
			}
		})
	}
}
