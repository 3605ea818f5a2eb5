package signing

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
)

// Copy copies the signatures and attestations of src (its .sig and .att
// images) to dst, the same image promoted to another repository: dst's
// .sig and .att get every layer of src's they lack, so signatures dst
// had already are kept. For an index it copies those of each platform's
// image too (publish attaches each platform's SBOM to its image). It
// returns what it wrote; an image with nothing attached copies nothing.
//
// Copy checks nothing: a promotion verifies src first (Verify) and copies
// only then, so that it never carries on what it did not verify.
func (c *Client) Copy(ctx context.Context, src, dst name.Digest) ([]Written, error) {
	if src.DigestStr() != dst.DigestStr() {
		return nil, fmt.Errorf("copy signatures of %s to %s: not the same digest", src, dst)
	}
	out, err := c.copyOne(ctx, src, dst)
	if err != nil {
		return out, err
	}
	desc, err := remote.Get(src, c.remote(ctx)...)
	if err != nil {
		return out, fmt.Errorf("read %s: %w", src, err)
	}
	if !desc.MediaType.IsIndex() {
		return out, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return out, fmt.Errorf("read %s: %w", src, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return out, fmt.Errorf("read %s: %w", src, err)
	}
	for _, child := range m.Manifests {
		ws, err := c.copyOne(ctx, src.Context().Digest(child.Digest.String()), dst.Context().Digest(child.Digest.String()))
		out = append(out, ws...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (c *Client) copyOne(ctx context.Context, src, dst name.Digest) ([]Written, error) {
	out, err := c.copyTags(ctx, src, dst)
	if err != nil {
		return out, err
	}
	bs, err := c.bundles(ctx, src)
	if err != nil {
		return out, err
	}
	// A referrer names its subject by digest, the same in both places:
	// it is copied as it is. Where dst's registry has no referrers API,
	// go-containerregistry lists it under the referrers tag schema's
	// sha256-<hex> index, which cosign reads too.
	for _, b := range bs {
		from := src.Context().Digest(b.desc.Digest.String())
		img, err := remote.Image(from, c.remote(ctx)...)
		if err != nil {
			return out, fmt.Errorf("read %s: %w", from, err)
		}
		to := dst.Context().Digest(b.desc.Digest.String())
		if err := remote.Write(to, img, c.remote(ctx)...); err != nil {
			return out, fmt.Errorf("write %s: %w", to, err)
		}
		fmt.Fprintf(c.opts.Log, "Copied %s to %s (%s)\n", from, to, b.predicateType)
		out = append(out, Written{Ref: to.String(), Digest: b.desc.Digest.String(), Scheme: ReferrersScheme, Attestation: b.predicateType != CosignSignPredicateType})
	}
	return out, nil
}

// copyTags copies src's .sig and .att images to dst's.
func (c *Client) copyTags(ctx context.Context, src, dst name.Digest) ([]Written, error) {
	var out []Written
	for _, tags := range [][2]name.Tag{{SignatureTag(src), SignatureTag(dst)}, {AttestationTag(src), AttestationTag(dst)}} {
		from, to := tags[0], tags[1]
		img, err := c.read(ctx, from)
		if err != nil {
			return out, err
		}
		if img == nil {
			continue
		}
		srcLayers, err := layers(img)
		if err != nil {
			return out, fmt.Errorf("read %s: %w", from, err)
		}
		old, err := c.read(ctx, to)
		if err != nil {
			return out, err
		}
		var have []layerOf
		if old != nil {
			if have, err = layers(old); err != nil {
				return out, fmt.Errorf("read %s: %w", to, err)
			}
		}
		seen := map[string]bool{}
		var adds []mutate.Addendum
		for _, l := range append(have, srcLayers...) {
			k := l.desc.Digest.String() + "\x00" + l.desc.Annotations[SignatureAnnotation]
			if seen[k] {
				continue
			}
			seen[k] = true
			adds = append(adds, mutate.Addendum{Layer: static.NewLayer(l.content, l.desc.MediaType), MediaType: l.desc.MediaType, Annotations: l.desc.Annotations})
		}
		if old != nil && len(adds) == len(have) {
			dg, err := old.Digest()
			if err != nil {
				return out, err
			}
			out = append(out, Written{Ref: to.String(), Digest: dg.String(), Unchanged: true, Attestation: strings.HasSuffix(to.TagStr(), ".att")})
			continue
		}
		merged, err := mutate.Append(emptyImage(), adds...)
		if err != nil {
			return out, fmt.Errorf("make %s: %w", to, err)
		}
		if err := remote.Write(to, merged, c.remote(ctx)...); err != nil {
			return out, fmt.Errorf("write %s: %w", to, err)
		}
		dg, err := merged.Digest()
		if err != nil {
			return out, err
		}
		fmt.Fprintf(c.opts.Log, "Copied %s to %s (%s)\n", from, to, dg)
		out = append(out, Written{Ref: to.String(), Digest: dg.String(), Attestation: strings.HasSuffix(to.TagStr(), ".att")})
	}
	return out, nil
}
