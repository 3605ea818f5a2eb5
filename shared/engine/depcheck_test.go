package engine

import (
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
)

// TestStaysLean keeps the chart and cluster libraries out of the engine
// package, so the build step does not carry them, and keeps it on one
// Docker client: github.com/moby/moby/client, not the frozen
// github.com/docker/docker module or the docker CLI's packages.
func TestStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "shared/engine", []string{"./", "../../internal/enginetest"},
		"helm.sh/", "k8s.io/", "sigs.k8s.io/", "github.com/docker/docker/", "github.com/docker/cli/")
}
