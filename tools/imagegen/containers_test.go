package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/shared/engine"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// The whole workflow with every step run from its image, the way Cloud
// Build and docker run users run them: the checkout mounted at
// /workspace, the Docker socket mounted for build, and each step reading
// what the one before wrote to /workspace/.gitship.
func TestStepImagesInContainers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every step's image and the example app")
	}
	host := enginetest.Daemon(t)
	socket, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		t.Skipf("the engine at %s is not a unix socket to mount", host)
	}
	goImage, base := enginetest.GoImage(t, host), enginetest.BaseImage(t, host)
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	eng, err := engine.Connect(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Cleanup(context.Background()); eng.Close() })

	// The images, for this machine's platform, loaded into the engine.
	out := t.TempDir()
	var steps []Step
	for _, s := range []string{"lint", "build", "validate", "publish", "gitops-pr", "verify"} {
		steps = append(steps, Step{Name: s, Package: "../../steps/" + s})
	}
	results, err := Build(ctx, Options{Steps: steps, Platforms: []string{"linux/" + runtime.GOARCH}, Out: out,
		Version: "e2e", Revision: "0123456789abcdef0123456789abcdef01234567", Created: time.Unix(1767225600, 0).UTC(),
		Source: "https://github.com/gitship/gitship", CACertificates: "/etc/ssl/certs/ca-certificates.crt",
		Files: filepath.Join("..", "..", "images")}, os.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		p, err := layout.FromPath(filepath.Join(out, "gitship-"+r.Step))
		if err != nil {
			t.Fatal(err)
		}
		root, _ := p.ImageIndex()
		idx, err := root.ImageIndex(r.Digest)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := idx.IndexManifest()
		img, err := idx.Image(m.Manifests[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		tag, _ := name.NewTag("gitship-e2e/gitship-" + r.Step + ":e2e")
		var tarBuf bytes.Buffer
		if err := tarball.Write(tag, img, &tarBuf); err != nil {
			t.Fatal(err)
		}
		if err := eng.LoadImage(ctx, &tarBuf); err != nil {
			t.Fatal(err)
		}
	}

	// The checkout, and a GitOps repository beside it.
	ws := t.TempDir()
	if err := os.CopyFS(ws, os.DirFS(filepath.Join("..", "..", "examples", "app"))); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "app"}} {
		gittest.Git(t, ws, args...)
	}
	gitops := gittest.Bare(t, map[string]string{"README.md": "# clusters\n"}, "main")

	// Cloud Build's way: the variables the pipeline passes, the checkout
	// at /workspace.
	env := []string{"BUILD_ID=e2e-1", "PROJECT_ID=acme"}
	step := func(name string, sock bool, args ...string) {
		t.Helper()
		o := engine.RunOptions{Image: "gitship-e2e/gitship-" + name + ":e2e", Cmd: args, Env: env, WorkingDir: "/workspace",
			Binds: []string{ws + ":/workspace", gitops + ":/gitops.git"}, NetworkMode: "host"}
		if sock {
			o.Binds = append(o.Binds, socket+":/var/run/docker.sock")
		}
		var log bytes.Buffer
		code, _, err := eng.Run(ctx, o, &log, &log)
		if err != nil || code != 0 {
			t.Fatalf("%s in its container: exit %d, %v\n%s", name, code, err, log.String())
		}
	}
	outputs := func(name string) map[string]string {
		t.Helper()
		var o map[string]string
		data, err := os.ReadFile(filepath.Join(ws, ".gitship", name+".json"))
		if err != nil {
			t.Fatalf("%s's outputs: %v", name, err)
		}
		json.Unmarshal(data, &o)
		return o
	}

	step("lint", false, "--path", ".", "--values", "deploy/values/dev.yaml", "--target", "test")
	step("build", true, "--build-arg", "GO_IMAGE="+goImage, "--build-arg", "RUNTIME_IMAGE="+base, "--image", "gitship-e2e/hello",
		"--test-target", "test", "--output", "oci:/workspace/.gitship/image")
	if b := outputs("build"); b["test-exit-code"] != "0" || b["oci-layout"] != "/workspace/.gitship/image" {
		t.Errorf("build outputs = %v", b)
	}
	step("validate", false, "--chart", "deploy/chart", "--values", "deploy/values/dev.yaml", "--release-name", "hello", "--render-to", ".gitship/rendered/dev")
	step("publish", false, "--image", "oci:"+outputs("build")["oci-layout"], "--repository", reg.Host+"/acme/hello", "--insecure")
	published := outputs("publish")
	if published["digest"] != outputs("build")["digest"] {
		t.Errorf("published %s, built %s", published["digest"], outputs("build")["digest"])
	}
	step("gitops-pr", false, "--gitops-repo", "/gitops.git", "--environment", "dev", "--direct",
		"--manifests", ".gitship/rendered/dev", "--app", "hello",
		"--image", strings.Replace(published["image"], reg.Host+"/acme/hello", "registry.example.com/hello", 1))
	files := gittest.Files(t, gitops, "main")
	if dep := files["clusters/dev/hello/deployment-hello.yaml"]; !strings.Contains(dep, "@"+published["digest"]) ||
		!strings.HasPrefix(dep, "# Source: deploy/chart/templates/deployment.yaml\n") {
		t.Errorf("the GitOps repository's deployment does not pin the published digest:\n%s\nfiles: %v", dep, files)
	}
}
