package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Cleanup removes the containers Run created and the images builds created,
// except the results of builds with Keep and the layers those are made of.
// With KeepBuildCache it removes only the results of builds without Keep.
// Something already gone is not an error, so calling it twice is safe.
// Call it with a context that is still live: on SIGTERM that is not the
// cancelled one.
func (e *Engine) Cleanup(ctx context.Context) error {
	e.mu.Lock()
	containers, builds := e.containers, e.builds
	e.containers, e.builds = nil, nil
	e.mu.Unlock()

	var errs []error
	for _, name := range containers {
		_, err := e.client.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", name, err))
		}
	}

	// Newest first, so that an image goes before the one it is built on.
	var remove []string
	kept := map[string]bool{}
	for _, b := range builds {
		if b.keep && b.result != "" {
			kept[b.result] = true
		}
	}
	for _, b := range slices.Backward(builds) {
		switch {
		case e.keepCache:
			if !b.keep && b.result != "" && slices.Contains(b.created, b.result) {
				remove = append(remove, b.result)
			}
		default:
			for _, id := range slices.Backward(b.created) {
				remove = append(remove, id)
			}
		}
	}
	for _, id := range remove {
		if kept[id] {
			continue // possibly the result of another build too
		}
		// Force removes the tags we gave it; an image other images are
		// built on stays all the same (a conflict), which is what keeps a
		// kept image's layers.
		_, err := e.client.ImageRemove(ctx, id, client.ImageRemoveOptions{Force: true, PruneChildren: false})
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			errs = append(errs, fmt.Errorf("remove image %s: %w", short(id), err))
		}
	}
	return errors.Join(errs...)
}

// Adopt makes Cleanup treat an image that something else put in the
// engine (BuildKit's exporter) as the result of a build of this Engine:
// removed at Cleanup, unless keep says it is the image the caller hands on.
func (e *Engine) Adopt(id string, keep bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.builds = append(e.builds, buildRec{result: id, created: []string{id}, keep: keep})
}
