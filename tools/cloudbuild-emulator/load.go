package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/moby/client"
)

// LoadOCI loads the image for this machine's platform from the OCI layout
// at dir (what `make images` writes under dist/images) into the engine as
// ref: as a docker save tarball written by go-containerregistry's tarball
// package, through the Engine API's image load. Nothing is pulled.
func LoadOCI(ctx context.Context, c *client.Client, dir, ref string) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	root, err := p.ImageIndex()
	if err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	img, err := pick(root, v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err != nil {
		return fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("-load %s=%s: %w", dir, ref, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarball.Write(tag, img, pw)) }()
	res, err := c.ImageLoad(ctx, pr, client.ImageLoadWithQuiet(true))
	if err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("load %s as %s: %w", dir, ref, err)
	}
	defer res.Close()
	if _, err := io.Copy(io.Discard, res); err != nil {
		return fmt.Errorf("load %s as %s: %w", dir, ref, err)
	}
	return nil
}

// pick finds the image for platform in a layout's index, descending into
// nested indexes (imagegen writes one index per image in the layout's).
func pick(idx v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			if img, err := pick(child, platform); err == nil {
				return img, nil
			}
		case d.MediaType.IsImage():
			if d.Platform == nil || d.Platform.Satisfies(platform) {
				img, err := idx.Image(d.Digest)
				if err != nil {
					return nil, err
				}
				if d.Platform == nil {
					cf, err := img.ConfigFile()
					if err != nil || cf.OS != platform.OS || cf.Architecture != platform.Architecture {
						continue
					}
				}
				return img, nil
			}
		}
	}
	return nil, fmt.Errorf("no image for %s/%s", platform.OS, platform.Architecture)
}
