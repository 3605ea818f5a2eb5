// Package imagetest makes container images from local files, for tests
// that must pull nothing: a busybox root file system from the machine's
// busybox-static (or a foreign platform's, for multi-platform images), an
// OCI image of one layer, and an import into a Docker engine.
package imagetest

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// ForeignBusyboxDir holds static busybox binaries for platforms other than
// the machine's own, named busybox-OS-ARCH (busybox-linux-arm64), for
// multi-platform base images; GITSHIP_TEST_BUSYBOX_DIR overrides it.
// .ci/run puts Debian's busybox-static:arm64 there.
const ForeignBusyboxDir = "/usr/local/lib/gitship-test"

// Epoch is the time of every file and image made here, so that the same
// files make the same digests.
var Epoch = time.Unix(0, 0)

// Busybox is a static busybox for platform ("linux/arm64"): the
// installed one (busybox-static) for the machine's own platform, else
// ForeignBusyboxDir/busybox-OS-ARCH.
func Busybox(platform string) (string, error) {
	if platform == "linux/"+runtime.GOARCH {
		bin, err := exec.LookPath("busybox")
		if err != nil {
			return "", fmt.Errorf("busybox is not installed (apt-get install busybox-static)")
		}
		if bin, err = filepath.EvalSymlinks(bin); err != nil {
			return "", err
		}
		return bin, checkStatic(bin)
	}
	dir := ForeignBusyboxDir
	if d := os.Getenv("GITSHIP_TEST_BUSYBOX_DIR"); d != "" {
		dir = d
	}
	bin := filepath.Join(dir, "busybox-"+strings.ReplaceAll(platform, "/", "-"))
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no busybox for %s: %w (Debian: dpkg --add-architecture arm64 && apt-get update && apt-get download busybox-static:arm64, then dpkg-deb -x it and install its bin/busybox as %s)", platform, err, bin)
	}
	return bin, checkStatic(bin)
}

// checkStatic refuses a dynamically linked busybox: the image has no
// libc for it.
func checkStatic(bin string) error {
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("%s: %v", bin, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (apt-get install busybox-static)", bin)
		}
	}
	return nil
}

// BusyboxRootfs is a tar of platform's busybox (see Busybox) as
// /bin/busybox, a link to it per applet in /bin, and the directories
// programs expect (/etc, /root, /tmp), every file dated Epoch.
func BusyboxRootfs(platform string) ([]byte, error) {
	bin, err := Busybox(platform)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	// The applet list of the platform's own busybox: QEMU runs a foreign
	// one; the machine's own list serves when it cannot.
	list, err := exec.Command(bin, "--list").Output()
	if err != nil {
		own, oerr := Busybox("linux/" + runtime.GOARCH)
		if oerr != nil {
			return nil, fmt.Errorf("%s --list: %v", bin, err)
		}
		if list, err = exec.Command(own, "--list").Output(); err != nil {
			return nil, fmt.Errorf("%s --list: %v", own, err)
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []struct {
		name string
		mode int64
	}{{"bin/", 0o755}, {"etc/", 0o755}, {"root/", 0o700}, {"tmp/", 0o1777}} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode, ModTime: Epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(data)), ModTime: Epoch}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", ModTime: Epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Image is an OCI image for platform ("linux/amd64") of one layer, the
// tar layer, with config's environment, command and entry point, created
// at Epoch.
func Image(layer []byte, platform string, config v1.Config) (v1.Image, error) {
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layer)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), l)
	if err != nil {
		return nil, err
	}
	plat, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
	cf.Config = config
	cf.Created = v1.Time{Time: Epoch}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
}

// Import imports the root file system tar rootfs into the engine c as the
// image ref, with changes (Dockerfile instructions: "ENV PATH=/bin",
// `CMD ["sh"]`), as `docker import` does, and waits until the engine has
// it.
func Import(ctx context.Context, c *client.Client, ref string, rootfs io.Reader, changes []string) error {
	res, err := c.ImageImport(ctx, client.ImageImportSource{Source: rootfs, SourceName: "-"}, ref,
		client.ImageImportOptions{Changes: changes})
	if err != nil {
		return fmt.Errorf("import %s: %w", ref, err)
	}
	defer res.Close()
	dec := json.NewDecoder(res)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("import %s: %w", ref, err)
		}
		if m.Error != nil {
			return fmt.Errorf("import %s: %s", ref, m.Error.Message)
		}
	}
}

// Push pushes img, an image or an index, with all it holds, as ref to a
// registry on loopback over plain HTTP ("127.0.0.1:PORT/repo:tag").
func Push(ref string, img remote.Taggable) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.Push(r, img); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}
