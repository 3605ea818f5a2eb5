package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/gitship/gitship/shared/buildkit"
	"github.com/gitship/gitship/shared/engine"
	"github.com/gitship/gitship/shared/markdown"
	"github.com/gitship/gitship/shared/ocilayout"
)

// final builds the image that ships, labelled and tagged, and hands it on.
func (b *builder) final(ctx context.Context) error {
	o := b.buildOptions(b.s.Target)
	o.Labels = b.in.labels
	o.Tags = b.in.tags
	o.Keep = b.in.docker
	title := "Build image"
	if b.s.Target != "" {
		title = fmt.Sprintf("Build image (stage %q)", b.s.Target)
	}
	if b.bk != nil && !b.bk.InEngine() && b.in.ociDir != "" {
		return b.finalLayout(ctx, title, o)
	}
	b.rec.started = time.Now()
	id, err := b.build(ctx, title, o, true)
	if err != nil {
		return err
	}
	b.rec.finished = time.Now()
	if b.bk == nil && b.in.ociDir != "" {
		b.rec.bases = b.classicBases(ctx)
	}
	fmt.Fprintf(b.r.Stdout, "Built image %s\n", id)
	if err := b.r.SetOutput("image-id", id); err != nil {
		return err
	}
	if err := b.reportTags(); err != nil {
		return err
	}
	var digest v1.Hash
	var layoutDir string
	if b.in.ociDir != "" {
		err := b.r.Group("Write OCI layout "+b.in.ociDir, func() error {
			var err error
			digest, err = b.exportOCI(ctx, id)
			return err
		})
		if err != nil {
			return err
		}
		if layoutDir, err = b.reportLayout(digest); err != nil {
			return err
		}
		if err := b.writeBuildInfo(layoutDir, digest); err != nil {
			return err
		}
	}
	b.md.WriteString(b.imageSummary(id, digest, layoutDir))
	return nil
}

// finalLayout builds with a standalone BuildKit, whose OCI exporter
// writes the layout straight from its store: no engine in between, and
// several platforms make one index. --output docker loads it as well.
func (b *builder) finalLayout(ctx context.Context, title string, o engine.BuildOptions) error {
	tmp, err := os.MkdirTemp("", "gitship-oci-*")
	if err != nil {
		return fmt.Errorf("--output oci:%s: %w", b.in.ociDir, err)
	}
	defer os.RemoveAll(tmp)
	so := b.solveOptions(o, true)
	so.Export = buildkit.Export{OCIDir: tmp, Engine: b.in.docker, Load: b.loadInto(ctx)}
	if b.in.docker {
		so.Export.Names = b.in.tags
	}
	var res buildkit.Result
	b.rec.started = time.Now()
	err = b.r.Group(title, func() error {
		var err error
		res, err = b.solve(ctx, so)
		return err
	})
	if err != nil {
		return b.buildError(o, err)
	}
	b.rec.finished = time.Now()
	b.rec.bases = res.BaseImages
	digest, configDigest, err := b.copyLayout(tmp)
	if err != nil {
		return err
	}
	id := res.ImageID
	if id == "" {
		id = configDigest // one platform: the ID an engine would give it
	}
	if id != "" {
		fmt.Fprintf(b.r.Stdout, "Built image %s\n", id)
		if err := b.r.SetOutput("image-id", id); err != nil {
			return err
		}
	}
	if b.in.docker {
		b.eng.Adopt(res.ImageID, true)
	}
	if err := b.reportTags(); err != nil {
		return err
	}
	layoutDir, err := b.reportLayout(digest)
	if err != nil {
		return err
	}
	if err := b.writeBuildInfo(layoutDir, digest); err != nil {
		return err
	}
	b.md.WriteString(b.imageSummary(id, digest, layoutDir))
	return nil
}

// reportTags logs and outputs the tags the image has in the engine, for
// --output docker.
func (b *builder) reportTags() error {
	if !b.in.docker {
		return nil
	}
	for _, t := range b.in.tags {
		fmt.Fprintf(b.r.Stdout, "Tagged %s\n", t)
	}
	return b.r.SetOutput("tags", strings.Join(b.in.tags, "\n"))
}

// reportLayout logs and outputs the layout --output oci:DIR holds and
// returns its absolute path.
func (b *builder) reportLayout(digest v1.Hash) (string, error) {
	layoutDir, err := filepath.Abs(b.in.ociDir)
	if err != nil {
		return "", err
	}
	what := "manifest"
	if len(b.in.platforms) > 1 && b.bk != nil && !b.bk.InEngine() {
		what = "index of " + strings.Join(b.in.platforms, ", ")
	}
	fmt.Fprintf(b.r.Stdout, "OCI layout %s: %s %s\n", layoutDir, what, digest)
	if err := b.r.SetOutput("digest", digest.String()); err != nil {
		return "", err
	}
	return layoutDir, b.r.SetOutput("oci-layout", layoutDir)
}

// copyLayout moves what BuildKit's OCI exporter wrote in tmp into --output
// oci:DIR as ocilayout writes it: all at once, named by the first tag, the
// blobs unchanged (the digests publish pushes are BuildKit's).
func (b *builder) copyLayout(tmp string) (digest v1.Hash, configDigest string, err error) {
	p, err := layout.FromPath(tmp)
	if err != nil {
		return v1.Hash{}, "", fmt.Errorf("read BuildKit's OCI layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return v1.Hash{}, "", fmt.Errorf("read BuildKit's OCI layout: %w", err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) == 0 {
		return v1.Hash{}, "", fmt.Errorf("read BuildKit's OCI layout: no image in index.json (%v)", err)
	}
	ref := ""
	if len(b.in.tags) > 0 {
		ref = b.in.tags[0]
	}
	desc := m.Manifests[0]
	if desc.MediaType.IsIndex() {
		child, err := idx.ImageIndex(desc.Digest)
		if err != nil {
			return v1.Hash{}, "", fmt.Errorf("read BuildKit's OCI layout: %w", err)
		}
		d, err := ocilayout.WriteIndex(b.in.ociDir, child, ref)
		if err != nil {
			return v1.Hash{}, "", fmt.Errorf("--output oci:%s: %w", b.in.ociDir, err)
		}
		return d, "", nil
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		return v1.Hash{}, "", fmt.Errorf("read BuildKit's OCI layout: %w", err)
	}
	d, err := ocilayout.Write(b.in.ociDir, img, ref)
	if err != nil {
		return v1.Hash{}, "", fmt.Errorf("--output oci:%s: %w", b.in.ociDir, err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		return v1.Hash{}, "", fmt.Errorf("read BuildKit's OCI layout: %w", err)
	}
	return d, cfg.String(), nil
}

// exportOCI writes the image as an OCI layout: docker save, read by
// go-containerregistry's tarball package, which compresses the layers as
// a registry stores them. The config is kept byte for byte, so the
// layout's config digest is the engine's image ID.
func (b *builder) exportOCI(ctx context.Context, id string) (v1.Hash, error) {
	rc, err := b.eng.SaveImage(ctx, id)
	if err != nil {
		return v1.Hash{}, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "gitship-save-*.tar")
	if err != nil {
		return v1.Hash{}, fmt.Errorf("save image: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return v1.Hash{}, fmt.Errorf("save image %s: %w", short(id), err)
	}
	img, err := tarball.Image(func() (io.ReadCloser, error) { return os.Open(f.Name()) }, nil)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read saved image %s: %w", short(id), err)
	}
	ref := ""
	if len(b.in.tags) > 0 {
		ref = b.in.tags[0]
	}
	digest, err := ocilayout.Write(b.in.ociDir, img, ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("--output oci:%s: %w", b.in.ociDir, err)
	}
	return digest, nil
}

func (b *builder) imageSummary(id string, digest v1.Hash, layoutDir string) string {
	var s strings.Builder
	s.WriteString("### Image\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&s, "| Image ID | `%s` |\n", id)
	if layoutDir != "" {
		fmt.Fprintf(&s, "| Digest | `%s` |\n| OCI layout | %s |\n", digest, markdown.Cell(b.relToWorkspace(layoutDir)))
	}
	if b.in.docker {
		for _, t := range b.in.tags {
			fmt.Fprintf(&s, "| Tag | `%s` |\n", markdown.Cell(t))
		}
	}
	keys := make([]string, 0, len(b.in.labels))
	for k := range b.in.labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&s, "| %s | %s |\n", markdown.Cell(k), markdown.Cell(b.in.labels[k]))
	}
	return s.String()
}
