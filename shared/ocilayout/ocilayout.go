// Package ocilayout writes and reads an image as an OCI image layout
// directory (oci-layout, index.json, blobs/sha256/...): how build hands an
// image to publish across jobs or machines without a registry or a daemon.
package ocilayout

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// RefNameAnnotation is the index annotation that names an image in a layout.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Write writes img as the only image of a layout at dir, named refName,
// and returns its manifest digest. The layout is assembled next to dir and
// swapped in when complete, so dir never holds half an image; a dir that
// exists must be empty or a layout (one Write left), never anything else.
func Write(dir string, img v1.Image, refName string) (v1.Hash, error) {
	return write(dir, refName, img.Digest, func(p layout.Path, opts []layout.Option) error {
		return p.AppendImage(img, opts...)
	})
}

// WriteIndex is Write for a multi-platform image index: index.json lists
// the index, which lists one image per platform.
func WriteIndex(dir string, idx v1.ImageIndex, refName string) (v1.Hash, error) {
	return write(dir, refName, idx.Digest, func(p layout.Path, opts []layout.Option) error {
		return p.AppendIndex(idx, opts...)
	})
}

func write(dir, refName string, digestOf func() (v1.Hash, error), add func(layout.Path, []layout.Option) error) (v1.Hash, error) {
	if err := checkReplaceable(dir); err != nil {
		return v1.Hash{}, err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return v1.Hash{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return v1.Hash{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	var opts []layout.Option
	if refName != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{RefNameAnnotation: refName}))
	}
	if err := add(p, opts); err != nil {
		return v1.Hash{}, fmt.Errorf("oci layout %s: write image: %w", dir, err)
	}
	digest, err := digestOf()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	if err := readableByAll(tmp); err != nil {
		return v1.Hash{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	if err := swap(tmp, dir); err != nil {
		return v1.Hash{}, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	return digest, nil
}

// Image reads the only image of the layout at dir (or the one named
// refName when there are several).
func Image(dir, refName string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("oci layout %s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("oci layout %s: index.json: %w", dir, err)
	}
	var found []v1.Descriptor
	for _, d := range m.Manifests {
		if refName == "" || d.Annotations[RefNameAnnotation] == refName {
			found = append(found, d)
		}
	}
	switch {
	case len(found) == 0 && refName != "":
		return nil, fmt.Errorf("oci layout %s: no image named %q", dir, refName)
	case len(found) == 0:
		return nil, fmt.Errorf("oci layout %s: index.json lists no image", dir)
	case len(found) > 1:
		return nil, fmt.Errorf("oci layout %s: %d images; name one", dir, len(found))
	}
	img, err := idx.Image(found[0].Digest)
	if err != nil {
		return nil, fmt.Errorf("oci layout %s: image %s: %w", dir, found[0].Digest, err)
	}
	return img, nil
}

// readableByAll opens up the layout: the temporary directory is 0700 and
// blobs are written 0600, but a GitHub Docker action runs as root and the
// next step (actions/upload-artifact, publish) as the runner's user.
func readableByAll(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o755)
		}
		return os.Chmod(p, 0o644)
	})
}

// checkReplaceable refuses to replace a directory Write did not make.
func checkReplaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("oci layout %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return fmt.Errorf("oci layout %s: the directory exists and is not an OCI layout; refusing to replace it (give an empty or new directory)", dir)
	}
	return nil
}

// swap puts the finished layout at dir, replacing an old one.
func swap(tmp, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}
