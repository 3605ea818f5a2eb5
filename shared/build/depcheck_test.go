package build

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStaysLean keeps Helm and the Kubernetes libraries out of the build
// step's binary: it builds images, it renders nothing.
func TestStaysLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../steps/build").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/yannh/kubeconform", "github.com/docker/docker/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("gitship-build depends on %s", dep)
			}
		}
	}
}
