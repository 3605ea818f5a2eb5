package sbom

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysSmall keeps what made syft too big for publish out of this
// package: syft and stereoscope themselves, and the cloud SDKs syft's
// file package links through hashicorp/go-getter (see doc.go).
func TestStaysSmall(t *testing.T) {
	depchecktest.Forbid(t, "shared/sbom", []string{"."},
		"github.com/anchore/syft/", "github.com/anchore/stereoscope/", "github.com/hashicorp/go-getter",
		"github.com/aws/", "cloud.google.com/go/storage", "helm.sh/", "k8s.io/")
}
