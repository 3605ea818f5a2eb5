package engine

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/moby/moby/client"
)

// Image is what the engine knows of an image.
type Image struct {
	ID       string   // "sha256:...", the digest of its config on Docker
	RepoTags []string // "app:1.2"
	// RepoDigests are the manifests the image was pulled or pushed as,
	// "registry/app@sha256:...": none for an image only built or imported.
	RepoDigests []string
	Labels      map[string]string // from LABEL and BuildOptions.Labels
	// WorkingDir is the image's WORKDIR, where its command runs.
	WorkingDir string
	Created    time.Time
	OS         string
	Arch       string
}

// InspectImage describes an image, by ID or name.
func (e *Engine) InspectImage(ctx context.Context, ref string) (Image, error) {
	res, err := e.client.ImageInspect(ctx, ref)
	if err != nil {
		return Image{}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	img := Image{ID: res.ID, RepoTags: res.RepoTags, RepoDigests: res.RepoDigests, OS: res.Os, Arch: res.Architecture}
	if res.Config != nil {
		img.Labels = res.Config.Labels
		img.WorkingDir = res.Config.WorkingDir
	}
	if res.Created != "" {
		img.Created, _ = time.Parse(time.RFC3339Nano, res.Created)
	}
	return img, nil
}

// SaveImage returns the image as docker save writes it: a tarball
// go-containerregistry's tarball package reads. The caller closes it.
func (e *Engine) SaveImage(ctx context.Context, ref string) (io.ReadCloser, error) {
	rc, err := e.client.ImageSave(ctx, []string{ref})
	if err != nil {
		return nil, fmt.Errorf("save image %s: %w", ref, err)
	}
	return rc, nil
}

// LoadImage loads images from a docker save tarball (docker load), e.g.
// one written by go-containerregistry's tarball package.
func (e *Engine) LoadImage(ctx context.Context, r io.Reader) error {
	res, err := e.client.ImageLoad(ctx, r, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("load image: %w", err)
	}
	defer res.Close()
	if _, err := io.Copy(io.Discard, res); err != nil {
		return fmt.Errorf("load image: %w", err)
	}
	return nil
}
