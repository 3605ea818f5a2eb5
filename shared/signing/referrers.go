package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// What cosign sign --new-bundle-format writes where a registry has the
// OCI 1.1 referrers API: an image manifest whose subject is the signed
// image, with an empty config and one layer, a Sigstore bundle v0.3 around
// a DSSE envelope. A signature's statement has cosign's own predicate
// type; an attestation's is the statement attested.
const (
	BundleMediaType           = "application/vnd.dev.sigstore.bundle.v0.3+json"
	CosignSignPredicateType   = "https://sigstore.dev/cosign/sign/v1"
	emptyMediaType            = "application/vnd.oci.empty.v1+json"
	bundleContentAnnotation   = "dev.sigstore.bundle.content"
	bundlePredicateAnnotation = "dev.sigstore.bundle.predicateType"
)

// Scheme is where signatures and attestations go in a registry.
type Scheme int

const (
	// TagScheme is cosign's sha256-<hex>.sig and .att tags, which every
	// registry takes.
	TagScheme Scheme = iota
	// ReferrersScheme is OCI 1.1 referrers carrying Sigstore bundles, for
	// registries that serve the referrers API.
	ReferrersScheme
)

func (s Scheme) String() string {
	if s == ReferrersScheme {
		return "OCI referrers (Sigstore bundles)"
	}
	return "cosign tag scheme (.sig, .att)"
}

// Scheme asks repo's registry whether it serves the OCI 1.1 referrers API
// (GET /v2/<name>/referrers/<digest> answers 200 with an image index) and
// picks the scheme: referrers where it does, the tag scheme elsewhere
// (Docker Hub's and distribution's registries answer 404). One image gets
// one scheme: cosign and Flux, finding a bundle referrer, verify bundles
// only.
func (c *Client) Scheme(ctx context.Context, d name.Digest) (Scheme, error) {
	s, _, err := c.probe(ctx, d)
	return s, err
}

// probe is Scheme, with the registry's error code when it answered with
// one (NAME_UNKNOWN for a repository that does not exist).
func (c *Client) probe(ctx context.Context, d name.Digest) (Scheme, transport.ErrorCode, error) {
	repo := d.Context()
	auth, err := c.opts.Keychain.Resolve(repo)
	if err != nil {
		return TagScheme, "", fmt.Errorf("credentials for %s: %w", repo, err)
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, c.opts.Transport, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return TagScheme, "", fmt.Errorf("reach %s: %w", repo.RegistryStr(), err)
	}
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/referrers/" + d.DigestStr()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return TagScheme, "", err
	}
	req.Header.Set("Accept", string(types.OCIImageIndex))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return TagScheme, "", fmt.Errorf("ask %s for referrers: %w", repo.RegistryStr(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") == string(types.OCIImageIndex) {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return ReferrersScheme, "", nil
	}
	var code transport.ErrorCode
	var te *transport.Error
	if err := transport.CheckError(resp, http.StatusOK); errors.As(err, &te) && len(te.Errors) > 0 {
		code = te.Errors[0].Code
	}
	return TagScheme, code, nil
}

// hint is how cosign names a public key in a bundle: the base64 SHA-256
// of its DER.
func hint(pub crypto.PublicKey) (string, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// signStatement is the statement a bundle signature signs: cosign's, about
// d.
func signStatement(d name.Digest) ([]byte, error) {
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"digest": map[string]string{h.Algorithm: h.Hex}}},
		"predicateType": CosignSignPredicateType,
	})
}

// writeBundle signs statement (predicate type pt) about d into a Sigstore
// bundle and pushes it as a referrer of d.
func (c *Client) writeBundle(ctx context.Context, d name.Digest, statement []byte, pt string, s *Signer) (Written, error) {
	env, err := dsse.WrapSigner(s.signer, InTotoPayloadType).SignMessage(bytes.NewReader(statement))
	if err != nil {
		return Written{}, err
	}
	var e struct {
		Signatures []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(env, &e); err != nil || len(e.Signatures) != 1 {
		return Written{}, fmt.Errorf("DSSE envelope: %v", err)
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	if err != nil {
		return Written{}, err
	}
	h, err := hint(s.public)
	if err != nil {
		return Written{}, err
	}
	b, err := protojson.Marshal(&protobundle.Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: h}}},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: statement, PayloadType: InTotoPayloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	})
	if err != nil {
		return Written{}, err
	}
	return c.pushBundle(ctx, d, b, pt)
}

// pushBundle pushes a Sigstore bundle about d (predicate type pt) as a
// referrer of d. Where the registry has no referrers API,
// go-containerregistry lists it under the sha256-<hex> referrers tag, as
// cosign does.
func (c *Client) pushBundle(ctx context.Context, d name.Digest, b []byte, pt string) (Written, error) {
	// The referrers tag sha256-<hex>, where go-containerregistry falls back.
	defer c.lock("referrers of " + d.String())()
	subject, err := remote.Head(d, c.remote(ctx)...)
	if err != nil {
		return Written{}, fmt.Errorf("read %s: %w", d, err)
	}
	layer := static.NewLayer(b, BundleMediaType)
	cfg := static.NewLayer([]byte("{}"), emptyMediaType)
	repo := d.Context()
	for _, l := range []v1.Layer{cfg, layer} {
		if err := remote.WriteLayer(repo, l, c.remote(ctx)...); err != nil {
			return Written{}, fmt.Errorf("write %s: %w", repo, err)
		}
	}
	ld, _ := layer.Digest()
	cd, _ := cfg.Digest()
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  BundleMediaType,
		Config:        v1.Descriptor{MediaType: emptyMediaType, Size: 2, Digest: cd, ArtifactType: BundleMediaType},
		Layers:        []v1.Descriptor{{MediaType: BundleMediaType, Size: int64(len(b)), Digest: ld}},
		Annotations: map[string]string{
			bundleContentAnnotation:            "dsse-envelope",
			bundlePredicateAnnotation:          pt,
			"org.opencontainers.image.created": time.Now().UTC().Format(time.RFC3339),
		},
		Subject: &v1.Descriptor{MediaType: subject.MediaType, Size: subject.Size, Digest: subject.Digest},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return Written{}, err
	}
	md, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return Written{}, err
	}
	ref := repo.Digest(md.String())
	if err := remote.Put(ref, rawManifest{raw: raw, mt: types.OCIManifestSchema1}, c.remote(ctx)...); err != nil {
		return Written{}, fmt.Errorf("write %s: %w", ref, err)
	}
	fmt.Fprintf(c.opts.Log, "Wrote %s, a referrer of %s (%s)\n", ref, d, pt)
	return Written{Ref: ref.String(), Digest: md.String()}, nil
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// bundleReferrer is one Sigstore bundle referring to an image.
type bundleReferrer struct {
	desc          v1.Descriptor // the referrer's manifest
	predicateType string
	bundle        []byte
}

// bundles lists d's Sigstore bundle referrers through the referrers API.
// It reads each referrer's manifest rather than trust the listing's
// artifactType: registries that predate OCI 1.1's final text (and
// go-containerregistry's test registry) list the config's media type
// there instead.
func (c *Client) bundles(ctx context.Context, d name.Digest) ([]bundleReferrer, error) {
	idx, err := remote.Referrers(d, c.remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", d, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []bundleReferrer
	for _, desc := range im.Manifests {
		if desc.ArtifactType != BundleMediaType && desc.ArtifactType != emptyMediaType && desc.ArtifactType != "" {
			continue
		}
		img, err := remote.Image(d.Context().Digest(desc.Digest.String()), c.remote(ctx)...)
		if err != nil {
			return nil, fmt.Errorf("read referrer %s: %w", desc.Digest, err)
		}
		m, err := img.Manifest()
		if err != nil {
			return nil, fmt.Errorf("read referrer %s: %w", desc.Digest, err)
		}
		if m.ArtifactType != BundleMediaType || len(m.Layers) != 1 || m.Layers[0].MediaType != BundleMediaType {
			continue
		}
		ls, err := layers(img)
		if err != nil {
			return nil, fmt.Errorf("read referrer %s: %w", desc.Digest, err)
		}
		out = append(out, bundleReferrer{desc: desc, predicateType: m.Annotations[bundlePredicateAnnotation], bundle: ls[0].content})
	}
	return out, nil
}

// verifyBundleJSON verifies a Sigstore bundle with the policy through
// sigstore-go, that its statement is about d, and returns the result and
// the statement.
func verifyBundleJSON(p Policy, data []byte, d name.Digest) (*verify.VerificationResult, []byte, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, nil, fmt.Errorf("read bundle: %w", err)
	}
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		return nil, nil, err
	}
	raw, err := hexBytes(h.Hex)
	if err != nil {
		return nil, nil, err
	}
	res, err := p.check(&b, verify.WithArtifactDigest(h.Algorithm, raw))
	if err != nil {
		return nil, nil, err
	}
	env, err := b.Envelope()
	if err != nil {
		return nil, nil, err
	}
	st, err := env.DecodeB64Payload()
	return res, st, err
}

// describeBundle says who a bundle that failed claims to be from.
func describeBundle(data []byte, err error) string {
	var b bundle.Bundle
	if b.UnmarshalJSON(data) == nil {
		if vc, verr := b.VerificationContent(); verr == nil && vc.Certificate() != nil {
			if sum, serr := certificate.SummarizeCertificate(vc.Certificate()); serr == nil {
				return fmt.Sprintf("keyless, identity %s issuer %s (%s)", sum.SubjectAlternativeName, sum.Issuer, shorten(err.Error()))
			}
		}
	}
	return "by another key or altered (" + shorten(err.Error()) + ")"
}
