package registry

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysLean keeps the Docker engine client out of the registry
// client: reading an image from the engine is package imagesource's job,
// so a program that only pushes or promotes does not link moby.
func TestStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "shared/registry", []string{"./"},
		"github.com/moby/", "github.com/docker/docker/", "github.com/gitship/gitship/shared/engine", "helm.sh/", "k8s.io/")
}
