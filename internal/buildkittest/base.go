package buildkittest

import (
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/gitship/gitship/internal/imagetest"
	"github.com/gitship/gitship/internal/testenv"
)

// BaseImageRepo is the repository BaseImage pushes to, under the
// registry's host.
const BaseImageRepo = "gitship-test/busybox:1"

// BaseImage pushes a busybox image for each of platforms ("linux/amd64",
// "linux/arm64") to the registry at host as one image index,
// host/BaseImageRepo, and returns that reference: a base image a
// Dockerfile's FROM can name and RUN in, on every platform, with nothing
// pulled from outside. The daemon needs WithInsecureRegistry(host). It
// skips the test when a platform's busybox is missing (see imagetest.Busybox), or
// fails it under GITSHIP_TEST_STRICT.
func BaseImage(t testing.TB, host string, platforms ...string) string {
	t.Helper()
	if len(platforms) == 0 {
		platforms = []string{"linux/" + runtime.GOARCH}
	}
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		if _, err := imagetest.Busybox(p); err != nil {
			testenv.Unavailable(t, "base image: %v", err)
		}
		img, err := busyboxImage(p)
		if err != nil {
			t.Fatalf("busybox image for %s: %v", p, err)
		}
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	ref := host + "/" + BaseImageRepo
	if err := imagetest.Push(ref, idx); err != nil {
		t.Fatal(err)
	}
	return ref
}

// busyboxImage is the image of platform's busybox (imagetest.BusyboxRootfs).
func busyboxImage(platform string) (v1.Image, error) {
	rootfs, err := imagetest.BusyboxRootfs(platform)
	if err != nil {
		return nil, err
	}
	return imagetest.Image(rootfs, platform, v1.Config{Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}})
}
