package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Tag is a tag to set and whether it may move to another digest.
type Tag struct {
	Name string
	// Immutable tags (a commit SHA, a release version) keep the digest
	// they were first given, unless Options.Overwrite.
	Immutable bool
}

// Result is what a push or a promotion published.
type Result struct {
	Digest v1.Hash
	// Image is "repository@sha256:...", what a deployment pins.
	Image string
	// Tags are the full references tagged, in the order given.
	Tags []string
	// Moved are the tags that pointed elsewhere before.
	Moved []string
}

// ErrTagConflict is returned when an immutable tag already names another
// digest.
var ErrTagConflict = errors.New("immutable tag points at another digest")

// Push uploads every blob and the manifest by digest, checks the registry
// serves that digest, checks every tag, and only then moves the tags.
// Nothing is tagged when any step fails.
func (c *Client) Push(ctx context.Context, a Artifact, repo name.Repository, tags []Tag) (Result, error) {
	digest, err := a.Digest()
	if err != nil {
		return Result{}, fmt.Errorf("read %s: %w", a.From, err)
	}
	// The tags are checked while the blobs go up: a refused tag cancels
	// the upload, and on a fast registry the round trips of the check cost
	// nothing. Nothing is tagged either way until both are done.
	upCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	checked := make(chan error, 1)
	go func() {
		_, err := c.checkTags(upCtx, repo, tags, digest)
		if err != nil {
			cancel()
		}
		checked <- err
	}()
	upErr := c.upload(upCtx, a, repo, digest)
	if err := <-checked; err != nil && (upErr == nil || ctx.Err() == nil) && !errors.Is(err, context.Canceled) {
		return Result{}, err
	}
	if upErr != nil {
		return Result{}, upErr
	}
	return c.tag(ctx, a, repo, tags, digest)
}

// upload writes the artifact by digest and verifies it.
func (c *Client) upload(ctx context.Context, a Artifact, repo name.Repository, digest v1.Hash) error {
	ref := repo.Digest(digest.String())
	fmt.Fprintf(c.opts.Log, "Uploading %s to %s\n", digest, repo)
	var err error
	if a.Index != nil {
		err = remote.WriteIndex(ref, a.Index, c.remote(ctx)...)
	} else {
		err = remote.Write(ref, a.Image, c.remote(ctx)...)
	}
	if err != nil {
		return c.wrap(fmt.Errorf("upload to %s: %w", repo, err), repo)
	}
	got, err := remote.Head(ref, c.remote(ctx)...)
	if err != nil {
		return c.wrap(fmt.Errorf("verify %s: %w", ref, err), repo)
	}
	if got.Digest != digest {
		return fmt.Errorf("verify %s: the registry serves %s", ref, got.Digest)
	}
	return nil
}

// tag moves the tags once every one of them may move.
func (c *Client) tag(ctx context.Context, a Artifact, repo name.Repository, tags []Tag, digest v1.Hash) (Result, error) {
	states, err := c.checkTags(ctx, repo, tags, digest)
	if err != nil {
		return Result{}, err
	}
	res := Result{Digest: digest, Image: repo.Digest(digest.String()).String()}
	errs := make([]error, len(tags))
	var wg sync.WaitGroup
	for i, t := range tags {
		ref := repo.Tag(t.Name)
		res.Tags = append(res.Tags, ref.String())
		if states[i] == digest.String() {
			continue // already there
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := remote.Tag(ref, a.taggable(), c.remote(ctx)...); err != nil {
				errs[i] = c.wrap(fmt.Errorf("tag %s: %w", ref, err), repo)
			}
		}()
		if states[i] != "" {
			res.Moved = append(res.Moved, fmt.Sprintf("%s (was %s)", ref, states[i]))
		}
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

// checkTags returns the digest each tag names now ("" when absent) and an
// error naming every immutable tag that would move.
func (c *Client) checkTags(ctx context.Context, repo name.Repository, tags []Tag, digest v1.Hash) ([]string, error) {
	states := make([]string, len(tags))
	var conflicts []string
	descs := make([]*v1.Descriptor, len(tags))
	errs := make([]error, len(tags))
	var wg sync.WaitGroup
	for i, t := range tags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			descs[i], errs[i] = remote.Head(repo.Tag(t.Name), c.remote(ctx)...)
		}()
	}
	wg.Wait()
	for i, t := range tags {
		ref := repo.Tag(t.Name)
		d, err := descs[i], errs[i]
		var te *transport.Error
		switch {
		case errors.As(err, &te) && te.StatusCode == http.StatusNotFound:
			continue
		case err != nil:
			return nil, c.wrap(fmt.Errorf("look up tag %s: %w", ref, err), repo)
		}
		states[i] = d.Digest.String()
		if t.Immutable && d.Digest != digest && !c.opts.Overwrite {
			conflicts = append(conflicts, fmt.Sprintf("%s is %s", t.Name, d.Digest))
		}
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("%s: refusing to move %s to %s (commit and release tags are immutable; --overwrite moves them): %w",
			repo, strings.Join(conflicts, ", "), digest, ErrTagConflict)
	}
	return states, nil
}

func (c *Client) wrap(err error, repo name.Repository) error {
	return c.keys.explain(err, repo.RegistryStr())
}
