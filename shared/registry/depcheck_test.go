package registry

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStaysLean keeps the Docker engine client out of the registry
// client: reading an image from the engine is package imagesource's job,
// so a program that only pushes or promotes does not link moby.
func TestStaysLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{"github.com/moby/", "github.com/docker/docker/", "github.com/gitship/gitship/shared/engine", "helm.sh/", "k8s.io/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("shared/registry depends on %s", dep)
			}
		}
	}
}
