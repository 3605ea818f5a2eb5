package validation

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// steps are the step packages: each is a binary's inputs, flow and
// outputs, and none may link another (what they share is a library,
// such as this one).
var steps = []string{
	"github.com/gitship/gitship/shared/build",
	"github.com/gitship/gitship/shared/gitopspr",
	"github.com/gitship/gitship/shared/lint",
	"github.com/gitship/gitship/shared/publish",
	"github.com/gitship/gitship/shared/validate",
}

// TestNoStepLinksAnother keeps step packages apart: gitops-pr validates
// through this library, not through the validate step.
func TestNoStepLinksAnother(t *testing.T) {
	args := append([]string{"list", "-deps=false", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, "."}, steps...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		for _, dep := range strings.Fields(deps) {
			if dep != pkg && slices.Contains(steps, dep) {
				t.Errorf("%s links the step package %s", pkg, dep)
			}
		}
	}
}
