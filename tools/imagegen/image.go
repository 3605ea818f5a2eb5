package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/gitship/gitship/shared/ocilayout"
)

// Step is one image: the step's name and its main package.
type Step struct{ Name, Package string }

// Options say what to build.
type Options struct {
	Steps          []Step
	Platforms      []string // "linux/amd64"
	Out            string   // OCI layouts go to Out/gitship-<step>
	Version        string
	Revision       string    // commit SHA
	Created        time.Time // every timestamp: the commit's
	Source         string    // repository URL
	CACertificates string    // CA bundle path
	Files          string    // directory of passwd and group: images/
}

// Result is one built image.
type Result struct {
	Step       string
	Digest     v1.Hash          // of the index
	Compressed map[string]int64 // per platform: config, manifest and layers as a registry stores them
}

const entrypoint = "/usr/local/bin/gitship-step"

// Build builds each step for each platform and writes the layouts.
func Build(ctx context.Context, o Options, log io.Writer) ([]Result, error) {
	base, err := baseLayer(o)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "imagegen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var results []Result
	for _, s := range o.Steps {
		res := Result{Step: s.Name, Compressed: map[string]int64{}}
		var adds []mutate.IndexAddendum
		for _, plat := range o.Platforms {
			p, err := v1.ParsePlatform(plat)
			if err != nil {
				return nil, fmt.Errorf("platform %q: %w", plat, err)
			}
			bin := filepath.Join(tmp, s.Name+"-"+p.OS+"-"+p.Architecture)
			fmt.Fprintf(log, "go build %s for %s\n", s.Package, plat)
			if err := goBuild(ctx, s.Package, bin, p, o.Version); err != nil {
				return nil, fmt.Errorf("%s for %s: %w", s.Name, plat, err)
			}
			img, err := stepImage(o, s, p, base, bin)
			if err != nil {
				return nil, fmt.Errorf("%s for %s: %w", s.Name, plat, err)
			}
			if res.Compressed[plat], err = compressedSize(img); err != nil {
				return nil, err
			}
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
		}
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
		dir := filepath.Join(o.Out, "gitship-"+s.Name)
		if res.Digest, err = ocilayout.WriteIndex(dir, idx, "gitship-"+s.Name+":"+o.Version); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "%s: %s\n", dir, res.Digest)
		results = append(results, res)
	}
	return results, nil
}

// goBuild compiles a static, reproducible binary: no paths, no build ID,
// no VCS stamp, so the same commit and toolchain give the same bytes.
func goBuild(ctx context.Context, pkg, out string, p *v1.Platform, version string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w -buildid= -X github.com/gitship/gitship/shared/step.Version="+version, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	if p.Variant != "" && p.Architecture == "arm" {
		cmd.Env = append(cmd.Env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, stderr.String())
	}
	return nil
}

// stepImage is the base layer, the binary's layer, and the config.
func stepImage(o Options, s Step, p *v1.Platform, base v1.Layer, bin string) (v1.Image, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	binLayer, err := layer(o.Created, []file{{path: entrypoint[1:], mode: 0o755, data: data}})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "imagegen: CA certificates, /etc/passwd, /tmp, /workspace"}},
		mutate.Addendum{Layer: binLayer, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: o.Created}, CreatedBy: "imagegen: gitship-" + s.Name}},
	)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: o.Created}
	cf.Config.Entrypoint = []string{entrypoint}
	cf.Config.WorkingDir = "/workspace"
	cf.Config.Env = []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":         "gitship-" + s.Name,
		"org.opencontainers.image.description":   "gitship " + s.Name + " CI step",
		"org.opencontainers.image.source":        o.Source,
		"org.opencontainers.image.documentation": o.Source + "/blob/main/docs/steps/" + s.Name + ".md",
		"org.opencontainers.image.version":       o.Version,
		"org.opencontainers.image.revision":      o.Revision,
		"org.opencontainers.image.created":       o.Created.Format(time.RFC3339),
		"org.opencontainers.image.vendor":        "gitship",
		"io.gitship.step":                        s.Name,
	}
	return mutate.ConfigFile(img, cf)
}

// baseLayer is what every step's image shares, so a registry stores it
// once.
func baseLayer(o Options) (v1.Layer, error) {
	certs, err := os.ReadFile(o.CACertificates)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w", err)
	}
	passwd, err := os.ReadFile(filepath.Join(o.Files, "passwd"))
	if err != nil {
		return nil, err
	}
	group, err := os.ReadFile(filepath.Join(o.Files, "group"))
	if err != nil {
		return nil, err
	}
	return layer(o.Created, []file{
		{path: "etc/", mode: 0o755},
		{path: "etc/group", mode: 0o644, data: group},
		{path: "etc/passwd", mode: 0o644, data: passwd},
		{path: "etc/ssl/", mode: 0o755},
		{path: "etc/ssl/certs/", mode: 0o755},
		{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: certs},
		{path: "root/", mode: 0o700},
		{path: "tmp/", mode: 0o1777},
		{path: "usr/", mode: 0o755},
		{path: "usr/local/", mode: 0o755},
		{path: "usr/local/bin/", mode: 0o755},
		{path: "workspace/", mode: 0o755},
	})
}

type file struct {
	path string // a trailing slash is a directory
	mode int64
	data []byte
}

// layer is a tar of files with fixed owners and times, so its bytes, and
// the gzip of them, depend on the contents only.
func layer(mtime time.Time, files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.path, Mode: f.mode, ModTime: mtime, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
		if strings.HasSuffix(f.path, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}

func compressedSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	n := m.Config.Size + int64(len(raw))
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}
