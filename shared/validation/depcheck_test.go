package validation

import (
	"slices"
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// steps are the step packages: each is a binary's inputs, flow and
// outputs, and none may link another (what they share is a library,
// such as this one).
var steps = []string{
	"github.com/gitship/gitship/shared/steps/build",
	"github.com/gitship/gitship/shared/steps/gitopspr",
	"github.com/gitship/gitship/shared/steps/lint",
	"github.com/gitship/gitship/shared/steps/publish",
	"github.com/gitship/gitship/shared/steps/validate",
}

// TestNoStepLinksAnother keeps step packages apart: gitops-pr validates
// through this library, not through the validate step.
func TestNoStepLinksAnother(t *testing.T) {
	for _, step := range steps {
		others := slices.DeleteFunc(slices.Clone(steps), func(s string) bool { return s == step })
		depchecktest.Forbid(t, step, []string{step}, others...)
	}
}
