// Package buildbench holds what bench/build.sh needs besides the docker
// CLI: the base images the example app is built on when nothing can be
// pulled.
package buildbench

import (
	"os"
	"testing"

	"github.com/gitship/gitship/internal/enginetest"
)

// TestBaseImages imports gitship-test/go:1 (GO_IMAGE) and
// gitship-test/busybox:1 (RUNTIME_IMAGE) into the engine at DOCKER_HOST
// when it lacks them, the way the engine tests do. bench/build.sh runs it
// with GITSHIP_BENCH_IMAGES=1; otherwise it skips, so that go test ./...
// leaves the engine alone.
func TestBaseImages(t *testing.T) {
	if os.Getenv("GITSHIP_BENCH_IMAGES") != "1" {
		t.Skip("run by bench/build.sh (GITSHIP_BENCH_IMAGES=1)")
	}
	host := enginetest.Daemon(t)
	t.Logf("%s: %s, %s", host, enginetest.GoImage(t, host), enginetest.BaseImage(t, host))
}
