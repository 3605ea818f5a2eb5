package step

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestFrameworkStaysLean keeps heavy libraries out of the packages every
// step links, so a step that needs no Helm (publish) does not carry it
// (go-containerregistry's cmd/crane/depcheck_test.go does the same).
func TestFrameworkStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "the step framework", []string{"./", "../ci", "../finding", "../redact"},
		"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/moby/buildkit", "github.com/docker/")
}
