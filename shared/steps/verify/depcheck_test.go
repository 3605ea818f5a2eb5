package verify

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysLean keeps the verify step's binary on the dynamic client:
// client-go's typed clientset and its discovery package link every
// built-in API type (gitship-verify would grow from 23 to 40 MB), and
// the step renders, builds and validates nothing.
func TestStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "gitship-verify", []string{"../../../steps/verify"},
		"k8s.io/client-go/kubernetes", "k8s.io/client-go/discovery", "k8s.io/client-go/informers",
		"helm.sh/", "sigs.k8s.io/kustomize/", "github.com/yannh/kubeconform", "github.com/docker/docker/", "github.com/moby/buildkit/")
}
