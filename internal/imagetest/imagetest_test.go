package imagetest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/imagetest"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// The same files make the same image: an OCI image for the platform
// asked for, with the config given, dated at the epoch.
func TestImage(t *testing.T) {
	layer := []byte("not read until the layer is")
	var digests []v1.Hash
	for range 2 {
		img, err := imagetest.Image(layer, "linux/arm64/v8", v1.Config{Entrypoint: []string{"/bin/x"}})
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != "linux" || cf.Architecture != "arm64" || cf.Variant != "v8" || !slices.Equal(cf.Config.Entrypoint, []string{"/bin/x"}) || !cf.Created.Equal(imagetest.Epoch) {
			t.Errorf("config: %s/%s/%s, entrypoint %q, created %s", cf.OS, cf.Architecture, cf.Variant, cf.Config.Entrypoint, cf.Created)
		}
		if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
			t.Errorf("media type %s, want %s", mt, types.OCIManifestSchema1)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("two images of the same files: %s and %s", digests[0], digests[1])
	}
}

// An imported busybox root file system is an image the engine has, with
// the changes applied and a shell that runs.
func TestImportBusybox(t *testing.T) {
	host := enginetest.Daemon(t)
	rootfs, err := imagetest.BusyboxRootfs("linux/" + runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	ref := "gitship-test/imagetest:" + hex.EncodeToString(suffix)
	if err := imagetest.Import(ctx, c, ref, bytes.NewReader(rootfs), []string{"ENV PATH=/bin", `CMD ["sh"]`}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true}) })
	ins, err := c.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if env := ins.Config.Env; !slices.Contains(env, "PATH=/bin") {
		t.Errorf("env %q lacks PATH=/bin", env)
	}
	if err := imagetest.Import(ctx, c, ref+"-bad", strings.NewReader("not a tar"), nil); err == nil || !strings.Contains(err.Error(), "import "+ref+"-bad") {
		t.Errorf("importing what is not a tar: %v, want an error naming the image", err)
	}
	c.ImageRemove(ctx, ref+"-bad", client.ImageRemoveOptions{Force: true})
}
