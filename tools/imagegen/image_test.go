package main

import (
	"archive/tar"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/shared/imagesource"
	"github.com/gitship/gitship/shared/registry"
)

func build(t *testing.T, out string) []Result {
	t.Helper()
	o := Options{
		Steps:     []Step{{Name: "hello", Package: "./testdata/hello"}},
		Platforms: []string{"linux/amd64", "linux/arm64"},
		Out:       out, Version: "1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Source: "https://github.com/gitship/gitship",
		CACertificates: "/etc/ssl/certs/ca-certificates.crt", Files: filepath.Join("..", "..", "images"),
	}
	res, err := Build(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Two builds of one commit give the same digests: every timestamp is the
// commit's and the binaries are reproducible.
func TestReproducible(t *testing.T) {
	first := build(t, t.TempDir())
	second := build(t, t.TempDir())
	if first[0].Digest != second[0].Digest {
		t.Errorf("digests differ: %s and %s", first[0].Digest, second[0].Digest)
	}
}

func TestImageContents(t *testing.T) {
	out := t.TempDir()
	res := build(t, out)
	p, err := layout.FromPath(filepath.Join(out, "gitship-hello"))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := p.ImageIndex()
	rm, _ := root.IndexManifest()
	if len(rm.Manifests) != 1 || rm.Manifests[0].Digest != res[0].Digest {
		t.Fatalf("index.json = %+v, want the index %s", rm.Manifests, res[0].Digest)
	}
	idx, err := root.ImageIndex(res[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	var plats []string
	for _, d := range m.Manifests {
		plats = append(plats, d.Platform.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		if cf.Config.Entrypoint[0] != entrypoint || cf.Config.WorkingDir != "/workspace" ||
			cf.Config.Labels["org.opencontainers.image.revision"] != "0123456789abcdef0123456789abcdef01234567" ||
			cf.Config.Labels["org.opencontainers.image.version"] != "1.2.3" || cf.Architecture != d.Platform.Architecture ||
			!cf.Created.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Errorf("%s config = %+v", d.Platform, cf)
		}
		files := map[string]string{}
		layers, _ := img.Layers()
		for _, l := range layers {
			rc, _ := l.Uncompressed()
			tr := tar.NewReader(rc)
			for {
				h, err := tr.Next()
				if err != nil {
					break
				}
				data, _ := io.ReadAll(tr)
				files[h.Name] = string(data)
				if !h.ModTime.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || h.Uid != 0 {
					t.Errorf("%s: mtime %v uid %d", h.Name, h.ModTime, h.Uid)
				}
			}
			rc.Close()
		}
		if !strings.Contains(files["etc/passwd"], "gitship:x:1001:1001") || !strings.Contains(files["etc/ssl/certs/ca-certificates.crt"], "BEGIN CERTIFICATE") ||
			len(files["usr/local/bin/gitship-step"]) < 100000 {
			t.Errorf("%s files: passwd %q, %d bytes of certificates, %d bytes of binary", d.Platform, files["etc/passwd"],
				len(files["etc/ssl/certs/ca-certificates.crt"]), len(files["usr/local/bin/gitship-step"]))
		}
	}
	if strings.Join(plats, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("platforms = %v", plats)
	}
}

// The layouts are pushed with the project's own publish code: the index
// and both platforms' images arrive under the digest imagegen reported.
func TestPushWithPublish(t *testing.T) {
	out := t.TempDir()
	res := build(t, out)
	reg := registrytest.Start(t, registrytest.Options{})
	a, cleanup, err := imagesource.Open(context.Background(), "oci:"+filepath.Join(out, "gitship-hello"))
	defer cleanup()
	if err != nil {
		t.Fatal(err)
	}
	c := registry.New(registry.Options{Insecure: true})
	repo, _ := c.ParseRepository(reg.Host + "/gitship/gitship-hello")
	pushed, err := c.Push(context.Background(), a, repo, []registry.Tag{{Name: "1.2.3", Immutable: true}})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Digest != res[0].Digest {
		t.Errorf("pushed %s, imagegen wrote %s", pushed.Digest, res[0].Digest)
	}
	ref, _ := name.ParseReference(reg.Host+"/gitship/gitship-hello:1.2.3", name.Insecure)
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	if len(m.Manifests) != 2 {
		t.Errorf("the registry's index lists %d images, want 2 platforms", len(m.Manifests))
	}
}
