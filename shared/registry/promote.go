package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ErrLabelMismatch is returned when an image to promote lacks a required
// label value.
var ErrLabelMismatch = errors.New("required label does not match")

// ErrDigestChanged is returned when a copy does not have its source's
// digest.
var ErrDigestChanged = errors.New("the copy's digest differs from the source's")

// Promote copies the image src names, by digest, to dst and tags it there.
// Nothing is pulled to disk: blobs stream from registry to registry,
// blobs already in dst are skipped, and on the same registry they are
// mounted across repositories instead of uploaded. Every image (each
// platform of an index) must carry the required labels.
func (c *Client) Promote(ctx context.Context, src name.Reference, dst name.Repository, tags []Tag, require map[string]string) (Result, error) {
	srcRepo := src.Context()
	desc, err := remote.Get(src, c.remote(ctx)...)
	if err != nil {
		return Result{}, c.wrap(fmt.Errorf("read %s: %w", src, err), srcRepo)
	}
	a := Artifact{From: src.String()}
	if desc.MediaType.IsIndex() {
		a.Index, err = desc.ImageIndex()
	} else {
		a.Image, err = desc.Image()
	}
	if err != nil {
		return Result{}, c.wrap(fmt.Errorf("read %s: %w", src, err), srcRepo)
	}
	if err := checkLabels(a, require); err != nil {
		return Result{}, fmt.Errorf("%s: %w", src, err)
	}
	fmt.Fprintf(c.opts.Log, "Promoting %s@%s to %s\n", srcRepo, desc.Digest, dst)
	res, err := c.Push(ctx, a, dst, tags)
	if err != nil {
		return res, err
	}
	if res.Digest != desc.Digest {
		return res, fmt.Errorf("promote %s to %s: %s, source %s: %w", src, dst, res.Digest, desc.Digest, ErrDigestChanged)
	}
	return res, nil
}

// checkLabels holds every image of a to the required labels.
func checkLabels(a Artifact, require map[string]string) error {
	if len(require) == 0 {
		return nil
	}
	imgs, err := a.Images()
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(require))
	for k := range require {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			return fmt.Errorf("read image config: %w", err)
		}
		var bad []string
		for _, k := range keys {
			if got, ok := cf.Config.Labels[k]; !ok {
				bad = append(bad, fmt.Sprintf("%s is not set (want %q)", k, require[k]))
			} else if got != require[k] {
				bad = append(bad, fmt.Sprintf("%s is %q (want %q)", k, got, require[k]))
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("refusing to promote: label %s: %w", strings.Join(bad, "; label "), ErrLabelMismatch)
		}
	}
	return nil
}
