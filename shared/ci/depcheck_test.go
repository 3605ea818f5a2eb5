package ci

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestNoGoGit: package ci reads the checkout through its own reader
// (internal/gitdir), so the steps that never touch git history do not
// link go-git (gitship-lint: 699 packages with it, 567 without).
func TestNoGoGit(t *testing.T) {
	for what, pkgs := range map[string][]string{
		"package ci":       {"./..."},
		"gitship-lint":     {"../../steps/lint"},
		"gitship-validate": {"../../steps/validate"},
	} {
		depchecktest.Forbid(t, what, pkgs, "github.com/go-git/")
	}
}
