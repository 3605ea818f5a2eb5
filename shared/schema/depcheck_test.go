package schema

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStaysLean keeps the package free of what its data was generated
// from: Kubernetes, Helm and the generator live in tools/schemagen.
func TestStaysLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{"helm.sh/", "k8s.io/", "github.com/gitship/gitship/tools/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("package schema depends on %s", dep)
			}
		}
	}
}
