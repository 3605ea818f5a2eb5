package main

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/buildkittest"
	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/imagetest"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/steptest"
	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/provenance"
)

// TestProvenanceHandoff: the engine's BuildKit, and its classic builder,
// build an image from two bases, one pinned by digest in a registry and
// one the engine has locally (never pushed), into an OCI layout; the
// layout's gitship-build.json lists both as the build resolved them, and
// the SLSA provenance publish makes from it names the registry base by
// digest.
func TestProvenanceHandoff(t *testing.T) {
	env := engineEnv(t)
	host := env["DOCKER_HOST"]
	local := enginetest.BaseImage(t, host)
	reg := registrytest.Start(t, registrytest.Options{})
	platform := "linux/" + runtime.GOARCH
	rootfs, err := imagetest.BusyboxRootfs(platform)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagetest.Image(rootfs, platform, v1.Config{Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := imagetest.Push(reg.Host+"/base:1", img); err != nil {
		t.Fatal(err)
	}
	remoteDigest := registrytest.Digest(t, reg.Host+"/base:1")
	pinned := reg.Host + "/base@" + remoteDigest
	// A base named by tag that the engine pulled before the build, as a
	// runner's engine has golang:1.26 from Docker Hub: the engine knows
	// the digest it pulled it by.
	pulledImg, err := imagetest.Image(rootfs, platform, v1.Config{Env: []string{"PATH=/bin", "PULLED=1"}})
	if err != nil {
		t.Fatal(err)
	}
	pulled := reg.Host + "/pulled:1"
	if err := imagetest.Push(pulled, pulledImg); err != nil {
		t.Fatal(err)
	}
	pulledDigest := registrytest.Digest(t, pulled)
	pull, err := engineClient(t).ImagePull(context.Background(), pulled, client.ImagePullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pull.Wait(context.Background()); err != nil {
		t.Fatalf("pull %s: %v", pulled, err)
	}

	dockerfile := "FROM " + local + " AS tools\nRUN echo built > /built\n\n" +
		"FROM " + pulled + " AS pulled\nRUN echo pulled > /pulled\n\n" +
		"FROM " + pinned + "\nCOPY --from=tools /built /built\nCOPY --from=pulled /pulled /pulled\n"
	localID := imageID(t, local)
	// The config's digest: what the engine's BuildKit read, and the ID of
	// the image the classic builder pulled.
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	pinnedID := cfg.String()
	tests := []struct{ name, builder, kind string }{
		{name: "engine BuildKit", kind: "BuildKit of the Docker engine"},
		{name: "classic builder", builder: "classic", kind: "classic builder of the Docker engine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, sha := repo(t, map[string]string{"Dockerfile": dockerfile}, "")
			args := []string{"--image", "prov", "--output", "oci:out/image"}
			if tt.builder != "" {
				args = append(args, "--builder", tt.builder)
			}
			res := steptest.Run(t, binary, ws, env, args...)
			mustSucceed(t, res)
			if !strings.Contains(res.Stdout, "Build info for publish's provenance: 3 base images") {
				t.Errorf("stdout does not say it recorded 3 base images:\n%s", res.Stdout)
			}
			out := steptest.Outputs(t, ws, "build")
			info, err := provenance.ReadBuildInfo(filepath.Join(ws, "out", "image"))
			if err != nil {
				t.Fatalf("ReadBuildInfo() = %v", err)
			}
			if info.Image != out["digest"] || info.Commit != sha || info.Dockerfile != "Dockerfile" ||
				info.Builder != tt.kind || info.StartedOn.IsZero() || info.FinishedOn.Before(info.StartedOn) {
				t.Errorf("build info = %+v; want image %s, commit %s, Dockerfile, %s, start before finish", info, out["digest"], sha, tt.kind)
			}
			byRef := map[string]provenance.BaseImage{}
			for _, bi := range info.BaseImages {
				byRef[bi.Ref] = bi
			}
			if got := byRef[pinned]; got.Digest != remoteDigest || got.Platform != platform || got.ImageID != pinnedID {
				t.Errorf("base image %s = %+v; want digest %s, image ID %s, platform %s (all: %+v)",
					pinned, got, remoteDigest, pinnedID, platform, info.BaseImages)
			}
			if got := byRef[pulled]; got.Digest != pulledDigest {
				t.Errorf("base image %s = %+v; want the digest the engine pulled it by, %s (all: %+v)", pulled, got, pulledDigest, info.BaseImages)
			}
			// The engine's BuildKit (Docker 20.10) takes a local image by
			// ID and says no manifest digest for it; the classic builder
			// says nothing: the image ID is what is known.
			localRef := "docker.io/" + local
			if got := byRef[localRef]; got.ImageID != localID || got.Digest != "" {
				t.Errorf("base image %s = %+v; want image ID %s and no digest (all: %+v)", localRef, got, localID, info.BaseImages)
			}

			digest, err := v1.NewHash(out["digest"])
			if err != nil {
				t.Fatal(err)
			}
			stmt, err := provenance.Statement(provenance.Input{
				Subject: provenance.Subject{Name: reg.Host + "/prov", Digest: digest},
				CI: ci.Context{Platform: "github", SHA: sha, Ref: "refs/heads/main", RepositoryURL: "https://github.com/acme/shop",
					RunURL: "https://github.com/acme/shop/actions/runs/1", RunAttempt: "1"},
				Build: &info,
			})
			if err != nil {
				t.Fatalf("Statement() = %v", err)
			}
			if want := `"digest":{"sha256":"` + strings.TrimPrefix(remoteDigest, "sha256:") + `"}`; !strings.Contains(string(stmt), want) {
				t.Errorf("provenance does not list the pinned base by digest (%s):\n%s", want, stmt)
			}
			if want := `"gitCommit":"` + sha + `"`; !strings.Contains(string(stmt), want) {
				t.Errorf("provenance does not name the commit (%s):\n%s", want, stmt)
			}
		})
	}
}

func imageID(t *testing.T, ref string) string {
	t.Helper()
	img, err := engineClient(t).ImageInspect(context.Background(), ref)
	if err != nil {
		t.Fatalf("inspect %s: %v", ref, err)
	}
	return img.ID
}

// TestProvenanceHandoffStandalone: a standalone BuildKit resolves a base
// named by tag in a registry and reports the digest it resolved to; its
// OCI exporter's layout carries gitship-build.json as the engine path's
// does, for each platform of a two-platform index.
func TestProvenanceHandoffStandalone(t *testing.T) {
	env := engineEnv(t)
	reg, bk := standalone(t)
	base := buildkittest.BaseImage(t, reg.Host, "linux/amd64", "linux/arm64")
	ws, sha := repo(t, map[string]string{"Dockerfile": "FROM " + base + "\nCOPY Dockerfile /built\n"}, "")
	res := steptest.Run(t, binary, ws, map[string]string{"DOCKER_HOST": env["DOCKER_HOST"]},
		"--builder", bk.Addr, "--platform", "linux/amd64,linux/arm64", "--output", "oci:out")
	mustSucceed(t, res)
	out := steptest.Outputs(t, ws, "build")
	info, err := provenance.ReadBuildInfo(filepath.Join(ws, "out"))
	if err != nil {
		t.Fatalf("ReadBuildInfo() = %v", err)
	}
	if info.Image != out["digest"] || info.Commit != sha || info.Builder != "standalone BuildKit" ||
		strings.Join(info.Platforms, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("build info = %+v; want image %s, commit %s, a standalone BuildKit, two platforms", info, out["digest"], sha)
	}
	index := registrytest.Digest(t, base) // the tag names an index of both platforms
	var plats []string
	for _, bi := range info.BaseImages {
		if bi.Digest != index || !strings.HasPrefix(bi.ImageID, "sha256:") {
			t.Errorf("base image %+v; want %s resolved to %s", bi, base, index)
		}
		plats = append(plats, bi.Platform)
	}
	if strings.Join(plats, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("base images resolved for %v, want linux/amd64 and linux/arm64 (all: %+v)", plats, info.BaseImages)
	}
}
