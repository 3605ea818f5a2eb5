package signing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrNotStaged is Stage's answer where signatures cannot be made ahead:
// the registry serves the referrers API (a referrer names its subject, so
// it waits for the image), or cannot tell yet (no repository yet).
var ErrNotStaged = errors.New("not staged")

// Attestation is a statement to attest about Image, and what it is, for
// messages ("provenance", "SBOM").
type Attestation struct {
	Image     name.Digest
	Statement []byte
	What      string
}

// Staged is a signature of an image and its attestations, made while the
// image itself uploads, with every blob they need uploaded too: once the
// image is there, only their manifests are left to write, one request
// each, all at once (Commit). Before Commit nothing names the blobs, so an
// image whose push fails leaves no signature behind.
type Staged struct {
	c      *Client
	Digest name.Digest
	writes []stagedWrite
}

type stagedWrite struct {
	tag       name.Tag
	img       v1.Image
	unchanged bool
	what      string // "" for the signature
}

// Stage makes, in cosign's tag scheme, d's signature by s and the
// attestations atts (of d, or of the platform images of the index d names)
// and uploads their blobs, for Commit to write their manifests once d is
// pushed. Attestations of one image share one write of its .att image.
// Where the tag scheme is not known to be d's (see ErrNotStaged), it
// returns ErrNotStaged and Sign and Attest do it after the push.
func (c *Client) Stage(ctx context.Context, d name.Digest, s *Signer, atts []Attestation) (*Staged, error) {
	if !c.tagSchemeKnown(ctx, d) {
		return nil, ErrNotStaged
	}
	st := &Staged{c: c, Digest: d}
	add, keep, err := signatureOf(d, s)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", d, err)
	}
	if err := st.add(ctx, SignatureTag(d), []mutate.Addendum{add}, keep, ""); err != nil {
		return nil, err
	}
	// The attestations by image, in their order.
	var order []name.Digest
	byImage := map[name.Digest][]Attestation{}
	for _, a := range atts {
		if _, ok := byImage[a.Image]; !ok {
			order = append(order, a.Image)
		}
		byImage[a.Image] = append(byImage[a.Image], a)
	}
	for _, img := range order {
		var adds []mutate.Addendum
		var pts, whats []string
		for _, a := range byImage[img] {
			pt, err := checkStatement(a.Statement, img, false)
			if err != nil {
				return nil, fmt.Errorf("attest %s: %w", img, err)
			}
			add, err := attestationOf(a.Statement, pt, s)
			if err != nil {
				return nil, fmt.Errorf("attest %s: %w", img, err)
			}
			adds, pts, whats = append(adds, add), append(pts, pt), append(whats, a.What)
		}
		if err := st.add(ctx, AttestationTag(img), adds, replaced(s, pts...), joinWhat(whats)); err != nil {
			return nil, err
		}
	}
	if err := st.upload(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *Staged) add(ctx context.Context, t name.Tag, adds []mutate.Addendum, keep func(layerOf) bool, what string) error {
	img, unchanged, err := st.c.compose(ctx, t, adds, keep)
	if err != nil {
		return err
	}
	st.writes = append(st.writes, stagedWrite{tag: t, img: img, unchanged: unchanged, what: what})
	return nil
}

// upload uploads the config and layers of every image to write, at once.
func (st *Staged) upload(ctx context.Context) error {
	var blobs []blob
	for _, w := range st.writes {
		if w.unchanged {
			continue
		}
		bs, err := blobsOf(w.tag.Context(), w.img)
		if err != nil {
			return fmt.Errorf("make %s: %w", w.tag, err)
		}
		blobs = append(blobs, bs...)
	}
	errs := make([]error, len(blobs))
	var wg sync.WaitGroup
	for i, b := range blobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := remote.WriteLayer(b.repo, b.layer, st.c.remote(ctx)...); err != nil {
				errs[i] = fmt.Errorf("write %s: %w", b.repo, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

type blob struct {
	repo  name.Repository
	layer v1.Layer
}

// blobsOf is img's config and layers, as blobs to upload to repo.
func blobsOf(repo name.Repository, img v1.Image) ([]blob, error) {
	cfg, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	out := []blob{{repo, static.NewLayer(cfg, types.OCIConfigJSON)}}
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		out = append(out, blob{repo, l})
	}
	return out, nil
}

// Commit writes the staged manifests, all at once: the signature first in
// the list it returns, then the attestations' images. errs holds, at the
// same index, why one was not written.
func (st *Staged) Commit(ctx context.Context) (written []Written, whats []string, errs []error) {
	written = make([]Written, len(st.writes))
	errs = make([]error, len(st.writes))
	whats = make([]string, len(st.writes))
	var wg sync.WaitGroup
	var logMu sync.Mutex
	for i, w := range st.writes {
		whats[i] = w.what
		wg.Add(1)
		go func() {
			defer wg.Done()
			dg, err := w.img.Digest()
			if err != nil {
				errs[i] = err
				return
			}
			written[i] = Written{Ref: w.tag.String(), Digest: dg.String(), Unchanged: w.unchanged, Attestation: w.what != ""}
			if w.unchanged {
				return
			}
			unlock := st.c.lock(w.tag.String())
			defer unlock()
			if err := remote.Put(w.tag, w.img, st.c.remote(ctx)...); err != nil {
				errs[i] = fmt.Errorf("write %s: %w", w.tag, err)
				written[i] = Written{}
				return
			}
			logMu.Lock()
			fmt.Fprintf(st.c.opts.Log, "Wrote %s (%s)\n", w.tag, dg)
			logMu.Unlock()
		}()
	}
	wg.Wait()
	return written, whats, errs
}

// tagSchemeKnown tells whether d's registry is known to take the tag
// scheme before d is pushed: it answers the referrers API with something
// else than an image index, and not with NAME_UNKNOWN (a registry with
// the API can answer that for a repository that does not exist yet). The
// answer is kept for Sign and Attest.
func (c *Client) tagSchemeKnown(ctx context.Context, d name.Digest) bool {
	if s, ok := c.knownScheme(d); ok {
		return s == TagScheme
	}
	s, code, err := c.probe(ctx, d)
	if err != nil || s != TagScheme || code == transport.NameUnknownErrorCode {
		return false
	}
	c.remember(d, s)
	return true
}

// joinWhat names several attestations: "provenance and SBOM".
func joinWhat(whats []string) string {
	switch len(whats) {
	case 0:
		return ""
	case 1:
		return whats[0]
	}
	return strings.Join(whats[:len(whats)-1], ", ") + " and " + whats[len(whats)-1]
}
