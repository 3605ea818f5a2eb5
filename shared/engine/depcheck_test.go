package engine

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysLean keeps the chart and cluster libraries out of the engine
// package, so the build step does not carry them, and keeps it on one
// Docker client: github.com/moby/moby/client, not the frozen
// github.com/docker/docker module or the docker CLI's packages. Its test
// helper may read the docker CLI's config (go-containerregistry's
// keychain, to push test images), but talks to the engine the same way.
func TestStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "shared/engine", []string{"./"},
		"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/docker/docker/", "github.com/docker/cli/")
	depchecktest.Forbid(t, "internal/enginetest", []string{"../../internal/enginetest"},
		"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/docker/docker/")
}
