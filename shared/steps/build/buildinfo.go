package build

import (
	"context"
	"fmt"
	"time"

	"github.com/distribution/reference"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/gitship/gitship/shared/buildkit"
	"github.com/gitship/gitship/shared/provenance"
)

// buildRecord is what the final build tells provenance beyond the image:
// the base images BuildKit resolved, and when it ran.
type buildRecord struct {
	bases             []buildkit.BaseImage
	started, finished time.Time
}

// writeBuildInfo hands publish what the build knew, in the layout at dir
// next to its index.json (provenance.BuildInfoFile): publish's SLSA
// provenance lists the base images by digest and the build's times.
func (b *builder) writeBuildInfo(dir string, digest v1.Hash) error {
	c := b.r.Context()
	info := provenance.BuildInfo{
		Image:      digest.String(),
		Repository: c.RepositoryURL,
		Ref:        c.Ref,
		Commit:     c.SHA,
		Dockerfile: b.relToWorkspace(b.dockerfilePath()),
		Target:     b.s.Target,
		Platforms:  b.in.platforms,
		Builder:    b.builderKind(),
		StartedOn:  b.rec.started.UTC(),
		FinishedOn: b.rec.finished.UTC(),
	}
	for _, bi := range b.rec.bases {
		if bi.Digest == "" && b.eng != nil {
			// The engine's BuildKit takes a base the engine has by its
			// image ID and reports no digest; the engine knows the one it
			// was pulled by.
			bi.Digest = b.pulledAs(bi)
		}
		info.BaseImages = append(info.BaseImages, provenance.BaseImage{
			Ref: bi.Ref, Digest: bi.Digest, ImageID: bi.ImageID, Platform: bi.Platform})
	}
	if err := provenance.WriteBuildInfo(dir, info); err != nil {
		return fmt.Errorf("--output oci:%s: %w", b.in.ociDir, err)
	}
	fmt.Fprintf(b.r.Stdout, "Build info for publish's provenance: %d base images, in %s\n", len(info.BaseImages), provenance.BuildInfoFile)
	return nil
}

// pulledAs is the digest the engine pulled base image bi by, "" when it
// does not have it or it was not pulled (built or imported here).
func (b *builder) pulledAs(bi buildkit.BaseImage) string {
	n, err := reference.ParseNormalizedNamed(bi.Ref)
	if err != nil {
		return ""
	}
	ref := bi.ImageID
	if ref == "" {
		ref = bi.Ref
	}
	img, err := b.eng.InspectImage(context.Background(), ref)
	if err != nil {
		return ""
	}
	return repoDigest(n, img.RepoDigests)
}

// builderKind says what built, without the builder's address: the
// provenance is public.
func (b *builder) builderKind() string {
	switch {
	case b.bk == nil:
		return "classic builder of the Docker engine"
	case b.bk.InEngine():
		return "BuildKit of the Docker engine"
	default:
		return "standalone BuildKit"
	}
}
