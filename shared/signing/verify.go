package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// ErrUnsigned is returned by Verify when the image has no signature at
// all.
var ErrUnsigned = errors.New("image is not signed")

// ErrNotVerified is returned by Verify when the image has signatures but
// none verifies against the policy.
var ErrNotVerified = errors.New("no signature verifies")

// ErrProvenance is returned by Verify when no verified provenance says
// the image was built from the source and ref the policy requires.
var ErrProvenance = errors.New("provenance does not match")

// SLSAProvenanceV1 is the predicate type of SLSA v1 provenance.
const SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"

// Policy is what Verify requires of an image: a signature by Key, or a
// keyless one (a Fulcio certificate logged in Rekor) whose identity the
// Issuer and Subject (or SubjectRegexp) match, checked against
// TrustedRoot.
type Policy struct {
	// Key is the trusted public key (cosign.pub).
	Key crypto.PublicKey
	// KeyName says where the key came from, for messages: "cosign.pub".
	KeyName string
	// Issuer is the OIDC issuer a keyless certificate must name, e.g.
	// https://token.actions.githubusercontent.com; Subject or
	// SubjectRegexp its identity (the workflow's URL on GitHub).
	Issuer, Subject, SubjectRegexp string
	// TrustedRoot holds the Fulcio CAs and Rekor keys a keyless
	// signature is checked against (Sigstore's trusted_root.json).
	TrustedRoot root.TrustedMaterial
	// Source and Ref, when set, require a SLSA v1 provenance attestation
	// signed by Key that names this source repository and ref
	// (refs/heads/main or main).
	Source, Ref string
}

func (p Policy) keyless() bool { return p.Issuer != "" }

// Expected describes the policy in a message.
func (p Policy) Expected() string {
	if p.keyless() {
		return fmt.Sprintf("signed keyless by %s issued by %s", orAny(cmpOr(p.Subject, p.SubjectRegexp)), p.Issuer)
	}
	id, _ := keyID(p.Key)
	s := "signed by key " + id
	if p.KeyName != "" {
		s += " (" + p.KeyName + ")"
	}
	return s
}

// Found is what Verify found.
type Found struct {
	// Image is the image verified, by digest.
	Image string
	// Identity is who signed: "key sha256:<hex of the public key>", or a
	// keyless certificate's subject (its SAN) and Issuer its issuer.
	Identity, Issuer string
	// Signatures counts the signatures found (verified or not).
	Signatures int
	// Provenance is the verified provenance, when the policy asked for
	// one or one was there.
	Provenance *Provenance
}

// Provenance is what a verified SLSA v1 provenance says of the build.
type Provenance struct {
	BuilderID string
	// Source is the repository the image was built from, Ref its ref and
	// Commit the commit.
	Source, Ref, Commit string
}

// VerifyError says what a policy expected and what was found.
type VerifyError struct {
	Image    string
	Expected string
	Found    []string
	Err      error
}

func (e *VerifyError) Error() string {
	found := "nothing"
	if len(e.Found) > 0 {
		found = strings.Join(e.Found, "; ")
	}
	return fmt.Sprintf("%s: %v: expected %s; found %s", e.Image, e.Err, e.Expected, found)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// Verify checks that the image d names carries a signature that verifies
// with the policy's key, over a payload naming d's digest, with
// sigstore-go's verifier; and, when the policy names a source, a SLSA v1
// provenance attestation by the same key, about d, saying the image was
// built from that source and ref.
func (c *Client) Verify(ctx context.Context, d name.Digest, p Policy) (Found, error) {
	if p.Key == nil && !p.keyless() {
		return Found{}, errors.New("verify: the policy names no key and no keyless identity")
	}
	if p.keyless() && p.TrustedRoot == nil {
		return Found{}, errors.New("verify: a keyless identity needs a trusted root")
	}
	found := Found{Image: d.String()}
	verr := &VerifyError{Image: d.String(), Expected: p.Expected()}
	img, err := c.read(ctx, SignatureTag(d))
	if err != nil {
		return found, err
	}
	var sigs []layerOf
	if img != nil {
		if sigs, err = layers(img); err != nil {
			return found, fmt.Errorf("read %s: %w", SignatureTag(d), err)
		}
	}
	// Bundles are read whatever the scheme: a keyless signature is one,
	// under the referrers tag where the registry has no referrers API.
	var bundleSigs []bundleReferrer
	all, err := c.bundles(ctx, d)
	if err != nil {
		return found, err
	}
	for _, b := range all {
		if b.predicateType == CosignSignPredicateType {
			bundleSigs = append(bundleSigs, b)
		}
	}
	found.Signatures = len(sigs) + len(bundleSigs)
	if found.Signatures == 0 {
		verr.Err = ErrUnsigned
		verr.Found = []string{"no signature at " + SignatureTag(d).String() + " nor among its OCI referrers"}
		return found, verr
	}
	ok := false
	n := 0
	for _, l := range sigs {
		n++
		if err := c.verifySignature(p, d, l, &found); err != nil {
			verr.Found = append(verr.Found, fmt.Sprintf("signature %d of %d: %s", n, found.Signatures, describeSignature(l, err)))
			continue
		}
		ok = true
		break
	}
	for _, b := range bundleSigs {
		if ok {
			break
		}
		n++
		res, _, err := verifyBundleJSON(p, b.bundle, d)
		if err != nil {
			verr.Found = append(verr.Found, fmt.Sprintf("signature %d of %d (Sigstore bundle %s): %s", n, found.Signatures, b.desc.Digest, describeBundle(b.bundle, err)))
			continue
		}
		found.setIdentity(res)
		ok = true
	}
	if !ok {
		verr.Err = ErrNotVerified
		return found, verr
	}
	if !p.keyless() {
		id, _ := keyID(p.Key)
		found.Identity = "key " + id
	}
	if p.Source == "" && p.Ref == "" {
		// Read the provenance when there is one, for the record; a
		// missing or unverifiable one is no failure here.
		if provs, _ := c.provenances(ctx, d, p); len(provs) > 0 {
			found.Provenance = &provs[0]
		}
		return found, nil
	}
	pverr := &VerifyError{Image: d.String(), Err: ErrProvenance,
		Expected: fmt.Sprintf("SLSA provenance %s from source %s ref %s", p.Expected(), orAny(p.Source), orAny(p.Ref))}
	provs, notes := c.provenances(ctx, d, p)
	pverr.Found = notes
	for i := range provs {
		pr := provs[i]
		if matchSource(p.Source, pr.Source) && matchRef(p.Ref, pr.Ref) {
			found.Provenance = &pr
			return found, nil
		}
		pverr.Found = append(pverr.Found, fmt.Sprintf("provenance from source %s ref %s commit %s (builder %s)", orNone(pr.Source), orNone(pr.Ref), orNone(pr.Commit), orNone(pr.BuilderID)))
	}
	return found, pverr
}

func orAny(s string) string {
	if s == "" {
		return "(any)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// verifySignature checks one simple-signing layer: its signature over
// its payload with sigstore-go's verifier and the policy's key or keyless
// identity, then that the payload names d's digest (a signature of
// another image copied here proves nothing).
func (c *Client) verifySignature(p Policy, d name.Digest, l layerOf, found *Found) error {
	if p.keyless() {
		res, err := verifyKeylessMessage(p, l)
		if err != nil {
			return err
		}
		defer found.setIdentity(res)
	} else if err := verifyMessage(p.Key, l); err != nil {
		return err
	}
	var pl payload.Cosign
	if err := json.Unmarshal(l.content, &pl); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if got := pl.Image.DigestStr(); got != d.DigestStr() {
		return fmt.Errorf("it signs %s, not %s", got, d.DigestStr())
	}
	return nil
}

// verifyMessage verifies a simple-signing layer's signature with key,
// through sigstore-go: the layer becomes a Sigstore bundle (v0.3, a
// message signature and a public key hint, no transparency log entry) and
// the key trusted material.
func verifyMessage(key crypto.PublicKey, l layerOf) error {
	if l.desc.MediaType != SimpleSigningMediaType {
		return fmt.Errorf("layer is %s, not a simple-signing payload", l.desc.MediaType)
	}
	sig, err := base64.StdEncoding.DecodeString(l.desc.Annotations[SignatureAnnotation])
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("no signature in its %s annotation", SignatureAnnotation)
	}
	sum := sha256.Sum256(l.content)
	hint, err := keyID(key)
	if err != nil {
		return err
	}
	pb := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}}},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}},
	}
	return verifyBundle(key, pb, verify.WithArtifact(bytes.NewReader(l.content)))
}

// verifyEnvelope verifies a DSSE layer (an attestation) with key through
// sigstore-go and returns its statement's JSON.
func verifyEnvelope(key crypto.PublicKey, content []byte) ([]byte, error) {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(content, &env); err != nil {
		return nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	if env.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("DSSE payload type %q; want %s", env.PayloadType, InTotoPayloadType)
	}
	statement, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("DSSE payload: %w", err)
	}
	hint, err := keyID(key)
	if err != nil {
		return nil, err
	}
	var last error = errors.New("no signature in the envelope")
	// A Sigstore bundle holds one signature per envelope: try each.
	for _, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			last = fmt.Errorf("DSSE signature: %w", err)
			continue
		}
		pb := &protobundle.Bundle{
			MediaType:            "application/vnd.dev.sigstore.bundle.v0.3+json",
			VerificationMaterial: &protobundle.VerificationMaterial{Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}}},
			Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
				Payload: statement, PayloadType: env.PayloadType,
				Signatures: []*protodsse.Signature{{Sig: sig, Keyid: s.KeyID}},
			}},
		}
		if last = verifyBundle(key, pb, verify.WithoutArtifactUnsafe()); last == nil {
			return statement, nil
		}
	}
	return nil, last
}

func verifyBundle(key crypto.PublicKey, pb *protobundle.Bundle, artifact verify.ArtifactPolicyOption) error {
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return fmt.Errorf("make bundle: %w", err)
	}
	_, err = Policy{Key: key}.check(b, artifact)
	return err
}

// check verifies a signed entity with sigstore-go's verifier: with the
// policy's key as the one trusted public key, whatever the entity's key
// hint says (cosign's hint and ours differ; the signature decides), or
// keyless against the trusted root, the certificate's identity, and a
// Rekor entry.
func (p Policy) check(e verify.SignedEntity, artifact verify.ArtifactPolicyOption) (*verify.VerificationResult, error) {
	if p.keyless() {
		id, err := verify.NewShortCertificateIdentity(p.Issuer, "", p.Subject, p.SubjectRegexp)
		if err != nil {
			return nil, err
		}
		v, err := verify.NewVerifier(p.TrustedRoot, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
		if err != nil {
			return nil, err
		}
		return v.Verify(e, verify.NewPolicy(artifact, verify.WithCertificateIdentity(id)))
	}
	sv, err := signature.LoadVerifier(p.Key, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	trusted := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(sv, time.Time{}, time.Time{}), nil
	})
	// A key signature carries no timestamp: the key's trust is the
	// caller's, as with `cosign verify --key --insecure-ignore-tlog`.
	v, err := verify.NewVerifier(trusted, verify.WithNoObserverTimestamps())
	if err != nil {
		return nil, err
	}
	return v.Verify(e, verify.NewPolicy(artifact, verify.WithKey()))
}

// setIdentity records a keyless verification's certificate identity.
func (f *Found) setIdentity(res *verify.VerificationResult) {
	if res != nil && res.Signature != nil && res.Signature.Certificate != nil {
		f.Identity, f.Issuer = res.Signature.Certificate.SubjectAlternativeName, res.Signature.Certificate.Issuer
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hexBytes(s string) ([]byte, error) { return hex.DecodeString(s) }

// describeSignature says what a signature that failed is: who it claims
// to be from, and why it failed.
func describeSignature(l layerOf, err error) string {
	var parts []string
	if pemCert := l.desc.Annotations[CertificateAnnotation]; pemCert != "" {
		if certs, cerr := cryptoutils.UnmarshalCertificatesFromPEM([]byte(pemCert)); cerr == nil && len(certs) > 0 {
			if sum, serr := certificate.SummarizeCertificate(certs[0]); serr == nil {
				parts = append(parts, fmt.Sprintf("keyless, identity %s issuer %s", sum.SubjectAlternativeName, sum.Issuer))
			}
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "by another key or altered")
	}
	if strings.Contains(err.Error(), "signs sha256:") {
		parts = []string{err.Error()}
	} else {
		parts = append(parts, "("+shorten(err.Error())+")")
	}
	return strings.Join(parts, " ")
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// provenances reads d's .att image and returns every SLSA v1 provenance
// that verifies with key and is about d, with notes on those that do not.
func (c *Client) provenances(ctx context.Context, d name.Digest, p Policy) ([]Provenance, []string) {
	img, err := c.read(ctx, AttestationTag(d))
	if err != nil {
		return nil, []string{err.Error()}
	}
	var ls []layerOf
	if img != nil {
		if ls, err = layers(img); err != nil {
			return nil, []string{err.Error()}
		}
	}
	var out []Provenance
	var notes, other []string
	for _, l := range ls {
		pt := l.desc.Annotations[PredicateTypeAnnotation]
		if pt != SLSAProvenanceV1 {
			other = append(other, pt)
			continue
		}
		var statement []byte
		if p.keyless() {
			statement, err = verifyKeylessEnvelope(p, l)
		} else {
			statement, err = verifyEnvelope(p.Key, l.content)
		}
		if err != nil {
			notes = append(notes, "a SLSA provenance that does not verify ("+shorten(err.Error())+")")
			continue
		}
		if _, err := checkStatement(statement, d, true); err != nil {
			notes = append(notes, "a SLSA provenance: "+err.Error())
			continue
		}
		out = appendProvenance(out, &notes, statement)
	}
	where := "no attestation at " + AttestationTag(d).String() + " nor among its OCI referrers"
	{
		bs, err := c.bundles(ctx, d)
		if err != nil {
			notes = append(notes, err.Error())
		}
		for _, b := range bs {
			if b.predicateType == CosignSignPredicateType {
				continue
			}
			if b.predicateType != SLSAProvenanceV1 {
				other = append(other, b.predicateType)
				continue
			}
			_, statement, err := verifyBundleJSON(p, b.bundle, d)
			if err != nil {
				notes = append(notes, "a SLSA provenance bundle that does not verify ("+shorten(err.Error())+")")
				continue
			}
			out = appendProvenance(out, &notes, statement)
		}
	}
	if len(out) == 0 && len(notes) == 0 {
		if len(other) == 0 {
			notes = append(notes, where)
		} else {
			notes = append(notes, fmt.Sprintf("no SLSA provenance among %d attestations (%s)", len(other), strings.Join(other, ", ")))
		}
	}
	return out, notes
}

func appendProvenance(out []Provenance, notes *[]string, statement []byte) []Provenance {
	pr, err := parseProvenance(statement)
	if err != nil {
		*notes = append(*notes, "a SLSA provenance: "+err.Error())
		return out
	}
	return append(out, pr)
}

// parseProvenance reads the source of a SLSA v1 provenance: the
// repository and ref from buildDefinition.externalParameters
// (repository, ref; or GitHub's workflow.repository and workflow.ref),
// else from the first resolved dependency with a gitCommit digest, whose
// URI is git+<repository>@<ref>.
func parseProvenance(statement []byte) (Provenance, error) {
	var st struct {
		Predicate struct {
			BuildDefinition struct {
				ExternalParameters   map[string]any `json:"externalParameters"`
				ResolvedDependencies []struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder struct {
					ID string `json:"id"`
				} `json:"builder"`
			} `json:"runDetails"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(statement, &st); err != nil {
		return Provenance{}, fmt.Errorf("read predicate: %w", err)
	}
	bd := st.Predicate.BuildDefinition
	pr := Provenance{BuilderID: st.Predicate.RunDetails.Builder.ID}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	pr.Source, pr.Ref = str(bd.ExternalParameters, "repository"), str(bd.ExternalParameters, "ref")
	if wf, ok := bd.ExternalParameters["workflow"].(map[string]any); ok {
		if pr.Source == "" {
			pr.Source = str(wf, "repository")
		}
		if pr.Ref == "" {
			pr.Ref = str(wf, "ref")
		}
	}
	for _, dep := range bd.ResolvedDependencies {
		commit := dep.Digest["gitCommit"]
		if commit == "" {
			commit = dep.Digest["sha1"]
		}
		if commit == "" || !strings.HasPrefix(dep.URI, "git+") {
			continue
		}
		pr.Commit = commit
		repo, ref, _ := strings.Cut(strings.TrimPrefix(dep.URI, "git+"), "@")
		if pr.Source == "" {
			pr.Source = repo
		}
		if pr.Ref == "" {
			pr.Ref = ref
		}
		break
	}
	return pr, nil
}

// matchSource compares repositories loosely: scheme, a trailing .git
// and case are ignored, so https://github.com/acme/shop matches
// github.com/acme/shop and acme/shop matches the end of either.
func matchSource(want, got string) bool {
	if want == "" {
		return true
	}
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git"))
		for _, p := range []string{"git+", "https://", "http://", "ssh://", "git@"} {
			s = strings.TrimPrefix(s, p)
		}
		return strings.Replace(s, ":", "/", 1)
	}
	w, g := norm(want), norm(got)
	return w == g || strings.HasSuffix(g, "/"+w)
}

// matchRef compares refs with or without refs/heads/ (or refs/tags/).
func matchRef(want, got string) bool {
	if want == "" {
		return true
	}
	short := func(s string) string {
		for _, p := range []string{"refs/heads/", "refs/tags/"} {
			s = strings.TrimPrefix(s, p)
		}
		return s
	}
	return want == got || short(want) == short(got)
}
