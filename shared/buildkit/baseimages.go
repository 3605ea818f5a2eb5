package buildkit

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
)

// BaseImage is an image a build started from: a FROM line's image (or a
// docker-image:// named context), as the Dockerfile frontend resolved it.
type BaseImage struct {
	// Ref is the normalized reference resolved:
	// "docker.io/library/golang:1.26", or one with "@sha256:...".
	Ref string
	// Digest is the manifest (or index) digest it resolved to. The
	// engine's BuildKit of Docker 20.10 takes an image it has locally
	// without one (it knows it by ID only); then a reference pinned by
	// digest still gives it, and nothing else does.
	Digest string
	// ImageID is the digest of the image config the build used: the
	// engine's image ID.
	ImageID string
	// Platform is the platform it was resolved for: "linux/amd64".
	Platform string
}

// baseImageRecorder notes every image config the frontend resolves: the
// frontend resolves the base of each stage it builds (only those the
// target needs), so what it noted is what the image was built from.
type baseImageRecorder struct {
	gwclient.Client
	mu   sync.Mutex
	seen map[string]BaseImage
}

func (c *baseImageRecorder) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	resolved, dgst, cfg, err := c.Client.ResolveImageConfig(ctx, ref, opt)
	if err == nil && opt.ImageOpt != nil {
		c.record(resolved, dgst, cfg, opt.ImageOpt)
	}
	return resolved, dgst, cfg, err
}

func (c *baseImageRecorder) record(ref string, dgst digest.Digest, cfg []byte, opt *sourceresolver.ResolveImageOpt) {
	bi := BaseImage{Ref: ref, Digest: dgst.String()}
	if named, err := reference.ParseNormalizedNamed(ref); err == nil {
		bi.Ref = named.String()
		if canonical, ok := named.(reference.Canonical); ok && dgst == "" {
			bi.Digest = canonical.Digest().String()
		}
	}
	if len(cfg) > 0 {
		bi.ImageID = digest.FromBytes(cfg).String()
	}
	if opt.Platform != nil {
		bi.Platform = platforms.Format(platforms.Normalize(*opt.Platform))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]BaseImage{}
	}
	c.seen[bi.Ref+" "+bi.Platform] = bi
}

// baseImages are the images noted, in a stable order: the frontend
// resolves stages concurrently.
func (c *baseImageRecorder) baseImages() []BaseImage {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]BaseImage, 0, len(c.seen))
	for _, bi := range c.seen {
		out = append(out, bi)
	}
	slices.SortFunc(out, func(a, b BaseImage) int {
		return strings.Compare(a.Ref+" "+a.Platform, b.Ref+" "+b.Platform)
	})
	return out
}
