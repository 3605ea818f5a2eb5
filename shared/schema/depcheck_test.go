package schema

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysLean keeps the package free of what its data was generated
// from: Kubernetes, Helm and the generator live in tools/schemagen.
func TestStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "package schema", []string{"."},
		"helm.sh/", "k8s.io/", "github.com/gitship/gitship/tools/")
}
