package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/gitship/gitship/shared/engine"
)

// Artifact is what is pushed: one image, or a multi-platform index pushed
// whole with every image it lists.
type Artifact struct {
	Image v1.Image
	Index v1.ImageIndex
	// From says where it was read, for logs.
	From string
}

// Digest is the digest of its manifest: what it is pushed and tagged as.
func (a Artifact) Digest() (v1.Hash, error) {
	if a.Index != nil {
		return a.Index.Digest()
	}
	return a.Image.Digest()
}

func (a Artifact) taggable() remote.Taggable {
	if a.Index != nil {
		return a.Index
	}
	return a.Image
}

// Images are the images of the artifact, one per platform of an index.
func (a Artifact) Images() ([]v1.Image, error) {
	if a.Index == nil {
		return []v1.Image{a.Image}, nil
	}
	m, err := a.Index.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []v1.Image
	for _, d := range m.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		img, err := a.Index.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// ErrNotImage is returned (wrapped) by Open when the spec, or the file or
// directory it names, holds no image it can read: bad input, not a
// failure of the registry.
var ErrNotImage = errors.New("not an image to push")

// notImage makes err an ErrNotImage and keeps its text.
type notImage struct{ err error }

func (e notImage) Error() string        { return e.err.Error() }
func (e notImage) Unwrap() error        { return e.err }
func (e notImage) Is(target error) bool { return target == ErrNotImage }

// Open reads the image to push: oci:DIR (an OCI image layout, as build
// writes it), tarball:FILE (docker save), or docker:REF (an image in the
// Docker engine at DOCKER_HOST). The temporary files a docker: image needs
// are removed by the returned cleanup.
func Open(ctx context.Context, spec string) (a Artifact, cleanup func(), err error) {
	cleanup = func() {}
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok || arg == "" {
		return a, cleanup, notImage{fmt.Errorf("%q: want oci:DIR, tarball:FILE or docker:REF", spec)}
	}
	switch kind {
	case "oci":
		a, err = openLayout(arg)
		if err != nil {
			err = notImage{err}
		}
	case "tarball":
		a, err = openTarball(arg)
	case "docker":
		return openDocker(ctx, arg)
	default:
		return a, cleanup, notImage{fmt.Errorf("%q: unknown kind %q; want oci:DIR, tarball:FILE or docker:REF", spec, kind)}
	}
	a.From = spec
	return a, cleanup, err
}

// openTarball reads what docker save writes. Anything else, a file that
// is not a tar or a tar without docker save's manifest.json, is named as
// such.
func openTarball(file string) (Artifact, error) {
	fi, err := os.Stat(file)
	switch {
	case err != nil:
		return Artifact{}, notImage{fmt.Errorf("tarball %s: %w", file, err)}
	case fi.IsDir():
		return Artifact{}, notImage{fmt.Errorf("tarball %s is a directory, not a tarball of docker save (an OCI layout is oci:%s)", file, file)}
	}
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		return Artifact{}, notImage{fmt.Errorf("tarball %s is not a tarball of docker save: %w", file, err)}
	}
	return Artifact{Image: img}, nil
}

// openLayout reads a layout holding one image, one index, or several
// images for different platforms (pushed as one index).
func openLayout(dir string) (Artifact, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return Artifact{}, fmt.Errorf("oci layout %s: index.json: %w", dir, err)
	}
	switch {
	case len(m.Manifests) == 0:
		return Artifact{}, fmt.Errorf("oci layout %s: index.json lists no image", dir)
	case len(m.Manifests) == 1 && m.Manifests[0].MediaType.IsIndex():
		child, err := idx.ImageIndex(m.Manifests[0].Digest)
		if err != nil {
			return Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
		}
		return Artifact{Index: child}, nil
	case len(m.Manifests) == 1:
		img, err := idx.Image(m.Manifests[0].Digest)
		if err != nil {
			return Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
		}
		return Artifact{Image: img}, nil
	}
	// Several images: one per platform makes an index; anything else is
	// ambiguous.
	var adds []mutate.IndexAddendum
	for _, d := range m.Manifests {
		if d.Platform == nil || !d.MediaType.IsImage() {
			return Artifact{}, fmt.Errorf("oci layout %s: %d images and not one per platform; write one image per layout", dir, len(m.Manifests))
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: d.Platform, MediaType: d.MediaType}})
	}
	multi := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return Artifact{Index: multi}, nil
}

// openDocker saves an image out of the engine into a temporary tarball.
func openDocker(ctx context.Context, ref string) (Artifact, func(), error) {
	none := func() {}
	eng, err := engine.Connect(ctx, "")
	if err != nil {
		return Artifact{}, none, err
	}
	defer eng.Close()
	rc, err := eng.SaveImage(ctx, ref)
	if err != nil {
		return Artifact{}, none, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "gitship-publish-*.tar")
	if err != nil {
		return Artifact{}, none, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return Artifact{}, none, fmt.Errorf("save %s from the engine: %w", ref, err)
	}
	img, err := tarball.ImageFromPath(f.Name(), nil)
	if err != nil {
		cleanup()
		return Artifact{}, none, fmt.Errorf("read %s saved from the engine: %w", ref, err)
	}
	return Artifact{Image: img, From: "docker:" + ref}, cleanup, nil
}
