package buildkittest

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BaseImageRepo is the repository BaseImage pushes to, under the
// registry's host.
const BaseImageRepo = "gitship-test/busybox:1"

// ForeignBusyboxDir holds static busybox binaries for platforms other than
// the machine's own, named busybox-OS-ARCH (busybox-linux-arm64), for
// multi-platform base images; GITSHIP_TEST_BUSYBOX_DIR overrides it.
// .ci/run puts Debian's busybox-static:arm64 there.
const ForeignBusyboxDir = "/usr/local/lib/gitship-test"

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

// BaseImage pushes a busybox image for each of platforms ("linux/amd64",
// "linux/arm64") to the registry at host as one image index,
// host/BaseImageRepo, and returns that reference: a base image a
// Dockerfile's FROM can name and RUN in, on every platform, with nothing
// pulled from outside. The daemon needs WithInsecureRegistry(host). It
// skips the test when a platform's busybox is missing (see Busybox), or
// fails it under GITSHIP_TEST_STRICT.
func BaseImage(t testing.TB, host string, platforms ...string) string {
	t.Helper()
	if len(platforms) == 0 {
		platforms = []string{"linux/" + runtime.GOARCH}
	}
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		bin, err := Busybox(p)
		if err != nil {
			unavailableWhat(t, "base image", "%v", err)
		}
		img, err := busyboxImage(bin, p)
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
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

func busyboxImage(bin, platform string) (v1.Image, error) {
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
	mtime := time.Unix(0, 0)
	for _, d := range []struct {
		name string
		mode int64
	}{{"bin/", 0o755}, {"etc/", 0o755}, {"root/", 0o700}, {"tmp/", 0o1777}} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(data)), ModTime: mtime}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
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
	cf.Config.Env = []string{"PATH=/bin"}
	cf.Config.Cmd = []string{"sh"}
	cf.Created = v1.Time{Time: mtime}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
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
