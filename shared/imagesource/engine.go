package imagesource

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/gitship/gitship/shared/engine"
	"github.com/gitship/gitship/shared/registry"
)

// openDocker saves an image out of the engine into a temporary tarball.
func openDocker(ctx context.Context, ref string) (registry.Artifact, func(), error) {
	none := func() {}
	eng, err := engine.Connect(ctx, "")
	if err != nil {
		return registry.Artifact{}, none, err
	}
	defer eng.Close()
	rc, err := eng.SaveImage(ctx, ref)
	if err != nil {
		return registry.Artifact{}, none, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "gitship-publish-*.tar")
	if err != nil {
		return registry.Artifact{}, none, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return registry.Artifact{}, none, fmt.Errorf("save %s from the engine: %w", ref, err)
	}
	img, err := tarball.ImageFromPath(f.Name(), nil)
	if err != nil {
		cleanup()
		return registry.Artifact{}, none, fmt.Errorf("read %s saved from the engine: %w", ref, err)
	}
	return registry.Artifact{Image: img, From: "docker:" + ref}, cleanup, nil
}
