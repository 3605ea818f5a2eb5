package main

import (
	"strings"
	"testing"
)

// repoRoot is the repository root as seen from this package's directory,
// where go test runs.
const repoRoot = "../.."

// TestCommittedWrappersAreGenerated fails when a committed wrapper differs
// from what the step declarations produce: a flag was added, renamed or
// given a new default without regenerating, or a generated file was edited
// by hand.
func TestCommittedWrappersAreGenerated(t *testing.T) {
	files, err := Generate(repoRoot, Steps())
	if err != nil {
		t.Fatalf("Generate = %v", err)
	}
	stale, err := Diff(repoRoot, files)
	if err != nil {
		t.Fatalf("Diff = %v", err)
	}
	if len(stale) > 0 {
		t.Errorf("wrappers out of date, run go run ./tools/wrappergen:\n  %s", strings.Join(stale, "\n  "))
	}
}
