package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStaysLean keeps the chart and cluster libraries out of the engine
// package, so the build step does not carry them, and keeps it on one
// Docker client: github.com/moby/moby/client, not the frozen
// github.com/docker/docker module or the docker CLI's packages.
func TestStaysLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./", "./enginetest").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/docker/docker/", "github.com/docker/cli/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("shared/engine depends on %s", dep)
			}
		}
	}
}
