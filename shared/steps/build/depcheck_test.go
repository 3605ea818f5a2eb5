package build

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysLean keeps Helm and the Kubernetes libraries out of the build
// step's binary: it builds images, it renders nothing.
func TestStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "gitship-build", []string{"../../../steps/build"},
		"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/yannh/kubeconform", "github.com/docker/docker/")
}
