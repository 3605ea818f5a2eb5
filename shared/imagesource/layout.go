package imagesource

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/gitship/gitship/shared/registry"
)

// openLayout reads a layout holding one image, one index, or several
// images for different platforms (pushed as one index).
func openLayout(dir string) (registry.Artifact, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return registry.Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return registry.Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return registry.Artifact{}, fmt.Errorf("oci layout %s: index.json: %w", dir, err)
	}
	switch {
	case len(m.Manifests) == 0:
		return registry.Artifact{}, fmt.Errorf("oci layout %s: index.json lists no image", dir)
	case len(m.Manifests) == 1 && m.Manifests[0].MediaType.IsIndex():
		child, err := idx.ImageIndex(m.Manifests[0].Digest)
		if err != nil {
			return registry.Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
		}
		return registry.Artifact{Index: child}, nil
	case len(m.Manifests) == 1:
		img, err := idx.Image(m.Manifests[0].Digest)
		if err != nil {
			return registry.Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
		}
		return registry.Artifact{Image: img}, nil
	}
	// Several images: one per platform makes an index; anything else is
	// ambiguous.
	var adds []mutate.IndexAddendum
	for _, d := range m.Manifests {
		if d.Platform == nil || !d.MediaType.IsImage() {
			return registry.Artifact{}, fmt.Errorf("oci layout %s: %d images and not one per platform; write one image per layout", dir, len(m.Manifests))
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return registry.Artifact{}, fmt.Errorf("oci layout %s: %w", dir, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: d.Platform, MediaType: d.MediaType}})
	}
	multi := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return registry.Artifact{Index: multi}, nil
}
