package signing

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysLean keeps signing off the Docker engine, Helm and Kubernetes,
// and off sigstore's cloud KMS clients and cosign (its dependencies are
// tens of MB). Rekor's API client comes with sigstore-go's keyless signing
// (pkg/sign): 0.4 MB.
func TestStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "shared/signing", []string{"./"},
		// k8s.io/klog comes with certificate-transparency-go, through
		// sigstore-go's SCT checks; the API machinery must not.
		"github.com/moby/", "github.com/docker/docker/", "helm.sh/", "k8s.io/api", "k8s.io/apimachinery", "k8s.io/client-go",
		"github.com/sigstore/sigstore/pkg/signature/kms", "github.com/sigstore/cosign/", "github.com/sigstore/fulcio/",
		"github.com/aws/", "cloud.google.com/go/kms", "github.com/Azure/")
}

// TestOnlyPublishAndGitOpsPRLinkSigstore keeps sigstore out of the steps
// that neither sign nor verify.
func TestOnlyPublishAndGitOpsPRLinkSigstore(t *testing.T) {
	for _, step := range []string{"lint", "validate", "build"} {
		depchecktest.Forbid(t, "gitship-"+step, []string{"../../steps/" + step},
			"github.com/sigstore/", "github.com/gitship/gitship/shared/signing")
	}
}
