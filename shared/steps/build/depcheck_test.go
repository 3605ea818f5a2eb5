package build

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysLean keeps Helm and the Kubernetes libraries out of the build
// step's binary: it builds images, it renders nothing. It hands publish
// what provenance needs (shared/provenance's build info) but makes no SBOM
// and signs nothing: those libraries stay with publish.
func TestStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "gitship-build", []string{"../../../steps/build"},
		"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/yannh/kubeconform", "github.com/docker/docker/",
		"github.com/gitship/gitship/shared/sbom", "github.com/spdx/", "github.com/CycloneDX/", "pault.ag/",
		"github.com/anchore/", "github.com/sigstore/")
}
