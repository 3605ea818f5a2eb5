package main

import (
	"archive/tar"
	"bytes"
	"runtime"

	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/buildkittest"
	"github.com/gitship/gitship/internal/imagetest"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/steptest"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// standalone is a loopback registry and a buildkitd that may use it.
func standalone(t *testing.T) (*registrytest.Registry, *buildkittest.Daemon) {
	t.Helper()
	reg := registrytest.Start(t, registrytest.Options{})
	return reg, buildkittest.Start(t, buildkittest.WithInsecureRegistry(reg.Host))
}

// crossDockerfile builds like a team cross-compiles: RUN on the build
// platform, then only COPY into each target platform's image, so no
// emulation is needed; a test stage on the runner's own platform.
func crossDockerfile(base string) string {
	return `FROM --platform=$BUILDPLATFORM ` + base + ` AS build
ARG TARGETARCH TARGETPLATFORM BUILDPLATFORM
RUN echo "$TARGETPLATFORM built on $BUILDPLATFORM" > /built-$TARGETARCH

FROM ` + base + ` AS test
COPY --from=build /built-* /
CMD ["sh", "-c", "cat /built-*; echo tests pass"]

FROM ` + base + `
ARG TARGETARCH
COPY --from=build /built-$TARGETARCH /built
`
}

// TestStandaloneMultiPlatform: with a standalone BuildKit, --platform with
// two platforms writes one index to the layout, with no engine in the
// way; the tests run on the runner's platform in the engine; publish
// pushes the index unchanged.
func TestStandaloneMultiPlatform(t *testing.T) {
	env := engineEnv(t)
	reg, bk := standalone(t)
	base := buildkittest.BaseImage(t, reg.Host, "linux/amd64", "linux/arm64")
	ws, _ := repo(t, map[string]string{"Dockerfile": crossDockerfile(base)}, "")
	e := map[string]string{"DOCKER_HOST": env["DOCKER_HOST"]}
	res := steptest.Run(t, binary, ws, e, "--builder", bk.Addr, "--platform", "linux/amd64,linux/arm64",
		"--test-target", "test", "--output", "oci:out")
	mustSucceed(t, res)
	for _, want := range []string{"Builder: buildkitd at " + bk.Addr, "linux/amd64 built on linux/amd64", "tests pass",
		"index of linux/amd64, linux/arm64"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
	out := steptest.Outputs(t, ws, "build")
	p, err := layout.FromPath(filepath.Join(ws, "out"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, _ := top.IndexManifest()
	if len(tm.Manifests) != 1 || !tm.Manifests[0].MediaType.IsIndex() {
		t.Fatalf("index.json lists %+v, want one image index", tm.Manifests)
	}
	idx, err := top.ImageIndex(tm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	if d.String() != out["digest"] {
		t.Errorf("layout index %s, output digest %s", d, out["digest"])
	}
	m, _ := idx.IndexManifest()
	var plats []string
	for _, desc := range m.Manifests {
		if desc.Platform != nil {
			plats = append(plats, desc.Platform.OS+"/"+desc.Platform.Architecture)
		}
	}
	if strings.Join(plats, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("index platforms = %v", plats)
	}

	// publish pushes what build wrote, byte for byte.
	res = steptest.Run(t, publishBinary(t), ws, map[string]string{}, "--image", "oci:out",
		"--repository", reg.Host+"/shop", "--insecure", "--tag", "v1")
	if res.Code != 0 {
		t.Fatalf("publish: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if pub := steptest.Outputs(t, ws, "publish"); pub["digest"] != out["digest"] {
		t.Errorf("publish pushed %s, build wrote %s", pub["digest"], out["digest"])
	}
}

// TestRegistryCache: a build writes a registry cache; a clean BuildKit
// (a new daemon, its cache empty, as on the next ephemeral runner) then
// rebuilds from it without running the expensive RUN again. (The 20.10
// engine's BuildKit, v0.8, imports the cache but computes other cache
// keys than v0.34 wrote: see docs/build.md.)
func TestRegistryCache(t *testing.T) {
	env := engineEnv(t)
	reg, bk := standalone(t)
	base := buildkittest.BaseImage(t, reg.Host)
	marker := fmt.Sprintf("expensive-%d", time.Now().UnixNano())
	df := "FROM " + base + "\nRUN echo " + marker + " && sleep 2 && echo " + marker + " > /expensive\nCOPY app.txt /app.txt\n"
	ws, _ := repo(t, map[string]string{"Dockerfile": df, "app.txt": "v1\n"}, "")
	cache := "type=registry,ref=" + reg.Host + "/shop:buildcache"
	e := map[string]string{"DOCKER_HOST": env["DOCKER_HOST"]}

	res := steptest.Run(t, binary, ws, e, "--builder", bk.Addr, "--cache-to", cache+",mode=max", "--output", "oci:out")
	mustSucceed(t, res)
	ran := regexp.MustCompile(`(?m)^#\d+ \[.*\] RUN echo ` + marker)
	if !ran.MatchString(res.Stdout) {
		t.Fatalf("the first build did not run the RUN:\n%s", res.Stdout)
	}

	clean := buildkittest.Start(t, buildkittest.WithInsecureRegistry(reg.Host))
	cached := regexp.MustCompile(`(?m)^#\d+ CACHED \[.*\] RUN echo ` + marker)
	res = steptest.Run(t, binary, ws, e, "--builder", clean.Addr, "--cache-from", cache, "--output", "oci:out2")
	mustSucceed(t, res)
	if !cached.MatchString(res.Stdout) {
		t.Errorf("the RUN was not taken from the registry cache:\n%s", res.Stdout)
	}
}

// TestRemoteBuilderTLS: a tcp:// builder with mutual TLS builds with the
// client's certificate, and refuses a client without one.
func TestRemoteBuilderTLS(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	bk := buildkittest.StartTCP(t, buildkittest.WithInsecureRegistry(reg.Host))
	base := buildkittest.BaseImage(t, reg.Host)
	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM " + base + "\nRUN echo remote > /where\n"}, "")
	res := steptest.Run(t, binary, ws, map[string]string{}, "--builder", bk.Addr, "--builder-tls-ca", bk.CACert,
		"--builder-tls-cert", bk.Cert, "--builder-tls-key", bk.Key, "--output", "oci:out")
	mustSucceed(t, res)
	if _, err := os.Stat(filepath.Join(ws, "out", "index.json")); err != nil {
		t.Errorf("no layout: %v", err)
	}
	res = steptest.Run(t, binary, ws, map[string]string{}, "--builder", bk.Addr, "--output", "oci:out")
	if res.Code != 2 || !strings.Contains(res.Stderr, bk.Addr) {
		t.Errorf("without TLS: exit %d, want 2 naming %s\n%s", res.Code, bk.Addr, res.Stderr)
	}
}

var (
	publishOnce sync.Once
	publishBin  string
	publishErr  error
)

// publishBinary builds gitship-publish once, to push what build wrote.
func publishBinary(t *testing.T) string {
	t.Helper()
	publishOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gitship-publish-e2e")
		if err != nil {
			publishErr = err
			return
		}
		publishBin = filepath.Join(dir, "gitship-publish")
		out, err := exec.Command("go", "build", "-o", publishBin, "../publish").CombinedOutput()
		if err != nil {
			publishErr = fmt.Errorf("build gitship-publish: %v\n%s", err, out)
		}
	})
	if publishErr != nil {
		t.Fatal(publishErr)
	}
	return publishBin
}

// TestSyntaxFrontendPulled: a "# syntax=" image that can be had is the
// frontend that builds: here BuildKit's own Dockerfile frontend, built from
// the module go.mod pins and pushed to the loopback registry.
func TestSyntaxFrontendPulled(t *testing.T) {
	reg, bk := standalone(t)
	base := buildkittest.BaseImage(t, reg.Host)
	frontend := pushFrontend(t, reg.Host)
	ws, _ := repo(t, map[string]string{"Dockerfile": "# syntax=" + frontend + "\nFROM " + base + "\nRUN echo built by the pulled frontend\n"}, "")
	res := steptest.Run(t, binary, ws, map[string]string{}, "--builder", bk.Addr, "--output", "oci:out")
	mustSucceed(t, res)
	for _, want := range []string{"# syntax=" + frontend + ": building with that frontend image", "docker-image://" + frontend,
		"built by the pulled frontend"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
}

// pushFrontend builds BuildKit's dockerfile-frontend (tools/buildkitd's
// module, the version go.mod pins) into an image and pushes it to host.
func pushFrontend(t *testing.T, host string) string {
	t.Helper()
	bin := buildkittest.Command(t, "github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "bin/dockerfile-frontend", Mode: 0o755, Size: int64(len(data))})
	tw.Write(data)
	tw.Close()
	img, err := imagetest.Image(buf.Bytes(), "linux/"+runtime.GOARCH, v1.Config{Entrypoint: []string{"/bin/dockerfile-frontend"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/gitship-test/dockerfile:" + buildkitVersion
	if err := imagetest.Push(ref, img); err != nil {
		t.Fatal(err)
	}
	return ref
}

// buildkitVersion names the frontend image: the version go.mod pins.
const buildkitVersion = "v0.34.2"

// TestLocalCache: type=local writes a cache directory that a clean
// builder reads back, as a CI cache action would carry it between runs.
func TestLocalCache(t *testing.T) {
	reg, bk := standalone(t)
	base := buildkittest.BaseImage(t, reg.Host)
	marker := fmt.Sprintf("local-cache-%d", time.Now().UnixNano())
	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM " + base + "\nRUN echo " + marker + " > /expensive\n"}, "")
	dir := filepath.Join(t.TempDir(), "cache")
	res := steptest.Run(t, binary, ws, map[string]string{}, "--builder", bk.Addr, "--cache-to", "type=local,dest="+dir+",mode=max", "--output", "oci:out")
	mustSucceed(t, res)
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		t.Fatalf("no local cache written: %v", err)
	}
	clean := buildkittest.Start(t, buildkittest.WithInsecureRegistry(reg.Host))
	res = steptest.Run(t, binary, ws, map[string]string{}, "--builder", clean.Addr, "--cache-from", "type=local,src="+dir, "--output", "oci:out")
	mustSucceed(t, res)
	if !regexp.MustCompile(`(?m)^#\d+ CACHED \[.*\] RUN echo ` + marker).MatchString(res.Stdout) {
		t.Errorf("the RUN was not taken from the local cache:\n%s", res.Stdout)
	}
}

// TestStandaloneQEMU: a RUN on a foreign platform runs under QEMU (binfmt),
// each platform's image holding what its own RUN saw.
func TestStandaloneQEMU(t *testing.T) {
	buildkittest.QEMU(t, "linux/arm64")
	reg, bk := standalone(t)
	base := buildkittest.BaseImage(t, reg.Host, "linux/amd64", "linux/arm64")
	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM " + base + "\nARG TARGETARCH\nRUN echo \"$TARGETARCH runs on $(uname -m)\" | tee /machine\n"}, "")
	res := steptest.Run(t, binary, ws, map[string]string{}, "--builder", bk.Addr, "--platform", "linux/amd64,linux/arm64", "--output", "oci:out")
	mustSucceed(t, res)
	for _, want := range []string{"amd64 runs on x86_64", "arm64 runs on aarch64"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
}
