package buildkittest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/registrytest"
)

// The daemon the tests run is the version of the client they link:
// tools/buildkitd's go.mod and gitship's agree on moby/buildkit.
func TestVersionIsGitshipsBuildKit(t *testing.T) {
	v, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	src, err := gotool.Dir("buildkitd")
	if err != nil {
		t.Fatal(err)
	}
	gomod := filepath.Join(src, "..", "..", "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	var main string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/moby/buildkit" {
			main = f[1]
		}
	}
	if main != v {
		t.Fatalf("tools/buildkitd pins moby/buildkit %s, gitship's go.mod %q: bump both together", v, main)
	}
}

func solve(t *testing.T, c *client.Client, def *llb.Definition, ex client.ExportEntry) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Solve(ctx, def, client.SolveOpt{Exports: []client.ExportEntry{ex}}, nil); err != nil {
		t.Fatalf("solve: %v", err)
	}
}

func marshal(t *testing.T, st llb.State, opts ...llb.ConstraintsOpt) *llb.Definition {
	t.Helper()
	def, err := st.Marshal(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// ociExport writes BuildKit's OCI exporter's result as a layout in a
// directory (tar=false), as `--output oci:DIR` does.
func ociExport(dir string) client.ExportEntry {
	return client.ExportEntry{Type: client.ExporterOCI, Attrs: map[string]string{"tar": "false"}, OutputDir: dir}
}

func TestStartBuildsToOCILayout(t *testing.T) {
	d := Start(t)
	if !strings.HasPrefix(d.Addr, "unix:///") {
		t.Errorf("Addr = %q, want a unix socket", d.Addr)
	}
	own := "linux/" + runtime.GOARCH
	if !d.Has(own) {
		t.Errorf("worker platforms %v lack the machine's own %s", d.Platforms, own)
	}
	t.Logf("worker platforms: %v", d.Platforms)

	out := filepath.Join(t.TempDir(), "oci")
	st := llb.Scratch().File(llb.Mkfile("/hello", 0o644, []byte("hello from buildkitd\n")))
	solve(t, d.Client(t), marshal(t, st), ociExport(out))

	if _, err := os.Stat(filepath.Join(out, "index.json")); err != nil {
		t.Fatalf("the OCI exporter wrote no index.json: %v", err)
	}
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1: %+v", len(im.Manifests), im.Manifests)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatalf("index.json's entry %s (%s) is not an image: %v", im.Manifests[0].Digest, im.Manifests[0].MediaType, err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Errorf("image has %d layers, want the one Mkfile made", len(layers))
	}
}

// The daemon a test stops is gone: its socket no longer answers.
func TestStop(t *testing.T) {
	d := Start(t)
	d.Stop()
	d.Stop() // twice is harmless
	ctx, cancel := context.WithTimeout(context.Background(), 3e9)
	defer cancel()
	if _, err := listWorkers(ctx, d.Addr, nil); err == nil {
		t.Fatalf("%s still answers after Stop", d.Addr)
	}
}

// A remote builder: TCP with mutual TLS. The client's certificate gets
// in; a client without one does not.
func TestStartTCPNeedsClientCertificate(t *testing.T) {
	d := StartTCP(t)
	if !strings.HasPrefix(d.Addr, "tcp://127.0.0.1:") {
		t.Errorf("Addr = %q, want tcp://127.0.0.1:PORT", d.Addr)
	}
	for _, f := range []string{d.CACert, d.Cert, d.Key} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("TLS file: %v", err)
		}
	}
	ctx := context.Background()
	if ws, err := d.Client(t).ListWorkers(ctx); err != nil || len(ws) == 0 {
		t.Fatalf("with the client certificate: %d workers, %v", len(ws), err)
	}
	if _, err := listWorkers(ctx, d.Addr, []client.ClientOpt{client.WithServerConfig(d.ServerName, d.CACert)}); err == nil {
		t.Error("a client without a certificate got in")
	}
	if _, err := listWorkers(ctx, d.Addr, nil); err == nil {
		t.Error("a plaintext client got in")
	}
}

// WithInsecureRegistry lets the daemon push to a plain-HTTP loopback
// registry, as registry outputs and registry caches need.
func TestPushToLoopbackRegistry(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	d := Start(t, WithInsecureRegistry(reg.Host))
	ref := reg.Host + "/buildkittest/hello:1"
	st := llb.Scratch().File(llb.Mkfile("/hello", 0o644, []byte("pushed\n")))
	solve(t, d.Client(t), marshal(t, st), client.ExportEntry{
		Type:  client.ExporterImage,
		Attrs: map[string]string{"name": ref, "push": "true"},
	})
	if registrytest.Digest(t, ref) == "" {
		t.Fatalf("%s is not in the registry after the push", ref)
	}
}

// Two platforms in one build give one image index with a manifest each;
// file operations need no emulation.
func TestTwoPlatformIndex(t *testing.T) {
	d := Start(t)
	ps := []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}
	out := filepath.Join(t.TempDir(), "oci")
	_, err := d.Client(t).Build(context.Background(), client.SolveOpt{Exports: []client.ExportEntry{ociExport(out)}}, "",
		func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
			res := gateway.NewResult()
			var meta exptypes.Platforms
			for _, p := range ps {
				id := p.OS + "/" + p.Architecture
				st := llb.Scratch().Platform(p).File(llb.Mkfile("/platform", 0o644, []byte(id+"\n")))
				def, err := st.Marshal(ctx, llb.Platform(p))
				if err != nil {
					return nil, err
				}
				r, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
				if err != nil {
					return nil, err
				}
				ref, err := r.SingleRef()
				if err != nil {
					return nil, err
				}
				res.AddRef(id, ref)
				meta.Platforms = append(meta.Platforms, exptypes.Platform{ID: id, Platform: p})
			}
			dt, err := json.Marshal(meta)
			if err != nil {
				return nil, err
			}
			res.AddMeta(exptypes.ExporterPlatformsKey, dt)
			return res, nil
		}, nil)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	top, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Manifests) != 1 {
		t.Fatalf("index.json lists %d entries, want the one image index", len(top.Manifests))
	}
	inner, err := idx.ImageIndex(top.Manifests[0].Digest)
	if err != nil {
		t.Fatalf("index.json's entry (%s) is not an image index: %v", top.Manifests[0].MediaType, err)
	}
	im, err := inner.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.OS != "unknown" {
			got = append(got, m.Platform.OS+"/"+m.Platform.Architecture)
		}
	}
	sort.Strings(got)
	if strings.Join(got, " ") != "linux/amd64 linux/arm64" {
		t.Fatalf("image index platforms = %v, want linux/amd64 linux/arm64", got)
	}
}

// With QEMU's binfmt handlers registered, the daemon RUNs an arm64
// binary: it reports the machine aarch64.
func TestQEMURunsArm64(t *testing.T) {
	QEMU(t, "linux/arm64")
	d := Start(t)
	if !d.Has("linux/arm64") {
		t.Fatalf("binfmt has qemu-aarch64, but the worker reports only %v", d.Platforms)
	}
	bin := goBinary(t, "arm64", `package main

import (
	"os"
	"syscall"
)

func main() {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		panic(err)
	}
	var b []byte
	for _, c := range u.Machine {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	if err := os.WriteFile(os.Args[1], b, 0o644); err != nil {
		panic(err)
	}
}
`)
	arm64 := ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	run := llb.Scratch().Platform(arm64).File(llb.Mkfile("/uname", 0o755, bin)).
		Run(llb.Args([]string{"/uname", "/out/machine"}))
	outState := run.AddMount("/out", llb.Scratch())
	out := t.TempDir()
	solve(t, d.Client(t), marshal(t, outState, llb.Platform(arm64)),
		client.ExportEntry{Type: client.ExporterLocal, OutputDir: out})
	got, err := os.ReadFile(filepath.Join(out, "machine"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "aarch64" {
		t.Fatalf("the arm64 RUN reported machine %q, want aarch64", got)
	}
}

// goBinary cross-compiles a static Go program for linux/goarch.
func goBinary(t *testing.T, goarch, src string) []byte {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), []byte("module uname\n\ngo 1.22\n"))
	write(t, filepath.Join(dir, "main.go"), []byte(src))
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", "prog", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0", "GOPROXY=off", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", goarch, err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "prog"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A Dockerfile built for two platforms from BaseImage's index: each RUN
// runs on its own platform (QEMU for arm64) and sees its TARGETARCH.
func TestDockerfileRunsOnTwoPlatforms(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the test pairs linux/amd64 with an emulated linux/arm64")
	}
	QEMU(t, "linux/arm64")
	reg := registrytest.Start(t, registrytest.Options{})
	base := BaseImage(t, reg.Host, "linux/amd64", "linux/arm64")
	d := Start(t, WithInsecureRegistry(reg.Host))

	src := t.TempDir()
	write(t, filepath.Join(src, "Dockerfile"), []byte("FROM "+base+"\nARG TARGETARCH\nRUN uname -m > /machine && echo $TARGETARCH > /targetarch\n"))
	fs, err := fsutil.NewFS(src)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	// The daemon's own Dockerfile frontend: builder.Build in this process
	// trips the race detector with two platforms (buildkit v0.34.2's
	// withResolveCache sets CacheError on every call).
	_, err = d.Client(t).Solve(context.Background(), nil, client.SolveOpt{
		Frontend:      "dockerfile.v0",
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		FrontendAttrs: map[string]string{"filename": "Dockerfile", "platform": "linux/amd64,linux/arm64"},
		Exports:       []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}},
	}, nil)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	for _, c := range []struct{ dir, machine, arch string }{
		{"linux_amd64", "x86_64", "amd64"},
		{"linux_arm64", "aarch64", "arm64"},
	} {
		for file, want := range map[string]string{"machine": c.machine, "targetarch": c.arch} {
			got, err := os.ReadFile(filepath.Join(out, c.dir, file))
			if err != nil {
				t.Errorf("%s: %v", c.dir, err)
				continue
			}
			if strings.TrimSpace(string(got)) != want {
				t.Errorf("%s/%s = %q, want %q", c.dir, file, strings.TrimSpace(string(got)), want)
			}
		}
	}
}
