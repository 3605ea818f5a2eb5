package signing

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Written is what Sign or Attest wrote.
type Written struct {
	// Ref is where: the .sig or .att tag.
	Ref string
	// Digest is the manifest digest of what the tag names now.
	Digest string
	// Unchanged is true when the same signature was there already.
	Unchanged bool
	// Scheme is how: cosign's tags, or an OCI referrer.
	Scheme Scheme
	// Attestation is true for attestations, false for signatures.
	Attestation bool
}

// Sign signs the image d names with s: cosign's simple-signing payload
// (the image's repository and digest), its signature in the layer's
// dev.cosignproject.cosign/signature annotation, appended to d's .sig
// image (made when there is none). A signature by the same key over the
// same payload already there is kept, not doubled: re-running a publish
// changes nothing.
func (c *Client) Sign(ctx context.Context, d name.Digest, s *Signer) (Written, error) {
	scheme, err := c.scheme(ctx, d)
	if err != nil {
		return Written{}, fmt.Errorf("sign %s: %w", d, err)
	}
	if scheme == ReferrersScheme {
		return c.signBundle(ctx, d, s)
	}
	add, keep, err := signatureOf(d, s)
	if err != nil {
		return Written{}, fmt.Errorf("sign %s: %w", d, err)
	}
	return c.attach(ctx, SignatureTag(d), []mutate.Addendum{add}, keep)
}

// signatureOf is the layer Sign appends to d's .sig image, and which of
// the layers there to keep: all but the same payload signed by s's key.
func signatureOf(d name.Digest, s *Signer) (mutate.Addendum, func(layerOf) bool, error) {
	p, err := payload.Cosign{Image: d}.MarshalJSON()
	if err != nil {
		return mutate.Addendum{}, nil, err
	}
	sig, err := s.signer.SignMessage(bytes.NewReader(p))
	if err != nil {
		return mutate.Addendum{}, nil, err
	}
	keep := func(l layerOf) bool {
		// The same payload, verified with our key: this key signed it.
		return !(bytes.Equal(l.content, p) && verifyMessage(s.public, l) == nil)
	}
	return mutate.Addendum{
		Layer:       static.NewLayer(p, SimpleSigningMediaType),
		MediaType:   SimpleSigningMediaType,
		Annotations: map[string]string{SignatureAnnotation: base64.StdEncoding.EncodeToString(sig)},
	}, keep, nil
}

// Attest signs statement, an in-toto Statement v1 (JSON) whose subject is
// the image d names, into a DSSE envelope and appends it to d's .att
// image, annotated with its predicateType as cosign does. An earlier
// attestation of the same predicate type by the same key is replaced: the
// .att image holds the latest provenance and SBOM of each key.
func (c *Client) Attest(ctx context.Context, d name.Digest, statement []byte, s *Signer) (Written, error) {
	pt, err := checkStatement(statement, d, false)
	if err != nil {
		return Written{}, fmt.Errorf("attest %s: %w", d, err)
	}
	scheme, err := c.scheme(ctx, d)
	if err != nil {
		return Written{}, fmt.Errorf("attest %s: %w", d, err)
	}
	if scheme == ReferrersScheme {
		w, err := c.writeBundle(ctx, d, statement, pt, s)
		w.Scheme, w.Attestation = scheme, true
		return w, err
	}
	add, err := attestationOf(statement, pt, s)
	if err != nil {
		return Written{}, fmt.Errorf("attest %s: %w", d, err)
	}
	w, err := c.attach(ctx, AttestationTag(d), []mutate.Addendum{add}, replaced(s, pt))
	w.Attestation = true
	return w, err
}

// attestationOf is the layer Attest appends to an .att image: statement
// (of predicate type pt) in a DSSE envelope signed by s.
func attestationOf(statement []byte, pt string, s *Signer) (mutate.Addendum, error) {
	env, err := dsse.WrapSigner(s.signer, InTotoPayloadType).SignMessage(bytes.NewReader(statement))
	if err != nil {
		return mutate.Addendum{}, err
	}
	return mutate.Addendum{
		Layer:     static.NewLayer(env, DSSEMediaType),
		MediaType: DSSEMediaType,
		Annotations: map[string]string{
			SignatureAnnotation:     "",
			PredicateTypeAnnotation: pt,
		},
	}, nil
}

// replaced keeps the layers of an .att image but those of the predicate
// types pts that s's key signed: the attestations written anew.
func replaced(s *Signer, pts ...string) func(layerOf) bool {
	return func(l layerOf) bool {
		if !slices.Contains(pts, l.desc.Annotations[PredicateTypeAnnotation]) {
			return true
		}
		_, err := verifyEnvelope(s.public, l.content)
		return err != nil
	}
}

// attach writes t's image: its layers that keep allows, then adds. When
// keep dropped a signature identical in payload to add's (same key), and
// nothing else changed, the image is left as it is.
func (c *Client) attach(ctx context.Context, t name.Tag, adds []mutate.Addendum, keep func(layerOf) bool) (Written, error) {
	defer c.lock(t.String())()
	img, unchanged, err := c.compose(ctx, t, adds, keep)
	if err != nil {
		return Written{}, err
	}
	dg, err := img.Digest()
	if err != nil {
		return Written{}, err
	}
	if unchanged {
		return Written{Ref: t.String(), Digest: dg.String(), Unchanged: true}, nil
	}
	if err := remote.Write(t, img, c.remote(ctx)...); err != nil {
		return Written{}, fmt.Errorf("write %s: %w", t, err)
	}
	fmt.Fprintf(c.opts.Log, "Wrote %s (%s)\n", t, dg)
	return Written{Ref: t.String(), Digest: dg.String()}, nil
}

// compose reads t's image and makes the one to write: the layers keep
// allows, then adds. unchanged is true, with the image as it is, when a
// signature adds would write is there already (same payload, same key).
func (c *Client) compose(ctx context.Context, t name.Tag, adds []mutate.Addendum, keep func(layerOf) bool) (img v1.Image, unchanged bool, err error) {
	old, err := c.read(ctx, t)
	if err != nil {
		return nil, false, err
	}
	var kept []mutate.Addendum
	if old != nil {
		ls, err := layers(old)
		if err != nil {
			return nil, false, fmt.Errorf("read %s: %w", t, err)
		}
		dropped := 0
		for _, l := range ls {
			if !keep(l) {
				dropped++
				continue
			}
			kept = append(kept, mutate.Addendum{
				Layer:       static.NewLayer(l.content, l.desc.MediaType),
				MediaType:   l.desc.MediaType,
				Annotations: l.desc.Annotations,
			})
		}
		if dropped > 0 && len(adds) == 1 && adds[0].MediaType == SimpleSigningMediaType {
			// Our key signed this payload already: leave it be.
			return old, true, nil
		}
	}
	img, err = mutate.Append(emptyImage(), append(kept, adds...)...)
	if err != nil {
		return nil, false, fmt.Errorf("make %s: %w", t, err)
	}
	return img, false, nil
}

// signBundle signs d as cosign sign --new-bundle-format does, unless a
// bundle signature by the same key is there already.
func (c *Client) signBundle(ctx context.Context, d name.Digest, s *Signer) (Written, error) {
	have, err := c.bundles(ctx, d)
	if err != nil {
		return Written{}, fmt.Errorf("sign %s: %w", d, err)
	}
	for _, b := range have {
		if b.predicateType == CosignSignPredicateType {
			if _, _, err := verifyBundleJSON(Policy{Key: s.public}, b.bundle, d); err == nil {
				return Written{Ref: d.Context().Digest(b.desc.Digest.String()).String(), Digest: b.desc.Digest.String(), Unchanged: true, Scheme: ReferrersScheme}, nil
			}
		}
	}
	st, err := signStatement(d)
	if err != nil {
		return Written{}, err
	}
	w, err := c.writeBundle(ctx, d, st, CosignSignPredicateType, s)
	w.Scheme = ReferrersScheme
	return w, err
}

// statementHead is what Attest checks of a statement before signing it.
type statementHead struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
}

// checkStatement refuses a statement that is not an in-toto Statement v1
// about d (or v0.1, which cosign attest still writes, when reading), and
// returns its predicate type.
func checkStatement(statement []byte, d name.Digest, v01 bool) (string, error) {
	var st statementHead
	if err := json.Unmarshal(statement, &st); err != nil {
		return "", fmt.Errorf("statement is not JSON: %w", err)
	}
	if st.Type != "https://in-toto.io/Statement/v1" && !(v01 && st.Type == "https://in-toto.io/Statement/v0.1") {
		return "", fmt.Errorf("statement _type is %q; want https://in-toto.io/Statement/v1", st.Type)
	}
	if st.PredicateType == "" {
		return "", fmt.Errorf("statement has no predicateType")
	}
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		return "", err
	}
	for _, s := range st.Subject {
		if s.Digest[h.Algorithm] == h.Hex {
			return st.PredicateType, nil
		}
	}
	return "", fmt.Errorf("statement's subject does not name %s", d.DigestStr())
}
