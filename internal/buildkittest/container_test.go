package buildkittest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	mobyclient "github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/testenv"
	"github.com/gitship/gitship/shared/engine"
)

// testEngine is the engine StartContainer's tests use: DOCKER_HOST, which
// .ci/run sets to its dockerd.
func testEngine(t *testing.T) string {
	t.Helper()
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		testenv.Unavailable(t, "engine: DOCKER_HOST is not set")
	}
	return host
}

// StartContainer's buildkitd answers `buildctl dial-stdio` in its
// container, the way a docker-container:// builder reaches it, and runs
// a RUN on a base image from a loopback registry; the container is gone
// when the test ends.
func TestStartContainer(t *testing.T) {
	host := testEngine(t)
	reg := registrytest.Start(t, registrytest.Options{})
	base := BaseImage(t, reg.Host)
	var name string
	t.Run("build", func(t *testing.T) {
		name = StartContainer(t, host, WithInsecureRegistry(reg.Host))
		if !strings.HasPrefix(name, "gitship-buildkitd-") {
			t.Errorf("name = %q", name)
		}
		ctx := context.Background()
		eng, err := engine.Connect(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		bk, err := client.New(ctx, "", client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return eng.DialExec(ctx, name, []string{"buildctl", "dial-stdio"})
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer bk.Close()
		st := llb.Image(base).Run(llb.Shlex(`sh -c "echo ran in the container builder > /ran"`)).Root()
		out := t.TempDir()
		solve(t, bk, marshal(t, st), ociExport(out))
		if _, err := os.Stat(filepath.Join(out, "index.json")); err != nil {
			t.Errorf("no layout: %v", err)
		}
	})
	if name == "" {
		return
	}
	c, err := mobyclient.New(mobyclient.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ContainerInspect(context.Background(), name, mobyclient.ContainerInspectOptions{}); err == nil {
		t.Errorf("container %s is still there after its test", name)
	}
}
