package registry

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Artifact is what is pushed: one image, or a multi-platform index pushed
// whole with every image it lists. Package imagesource reads one from an
// OCI layout, a docker save tarball or the engine.
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
