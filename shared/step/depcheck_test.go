package step

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFrameworkStaysLean keeps heavy libraries out of the packages every
// step links, so a step that needs no Helm (publish) does not carry it
// (go-containerregistry's cmd/crane/depcheck_test.go does the same).
func TestFrameworkStaysLean(t *testing.T) {
	pkgs := []string{"./", "../ci", "../finding", "../redact"}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/moby/buildkit", "github.com/docker/"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("the step framework depends on %s", dep)
			}
		}
	}
}
