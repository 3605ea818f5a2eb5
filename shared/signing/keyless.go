package signing

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// What cosign's keyless signing puts beside a signature in the tag
// scheme: the Fulcio certificate, its chain, and the Rekor entry's
// signed entry timestamp with the entry.
const (
	ChainAnnotation  = "dev.sigstore.cosign/chain"
	BundleAnnotation = "dev.sigstore.cosign/bundle"
)

// rekorBundle is cosign's dev.sigstore.cosign/bundle annotation.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           []byte `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// keylessEntity is a keyless signature of cosign's tag scheme as
// sigstore-go verifies it: the certificate, the signature (over a payload,
// or a DSSE envelope) and the Rekor entry with its inclusion promise.
type keylessEntity struct {
	verify.BaseSignedEntity
	cert    *x509.Certificate
	sig     verify.SignatureContent
	entries []*tlog.Entry
}

func (e *keylessEntity) VerificationContent() (verify.VerificationContent, error) {
	return bundle.NewCertificate(e.cert), nil
}
func (e *keylessEntity) SignatureContent() (verify.SignatureContent, error) { return e.sig, nil }
func (e *keylessEntity) TlogEntries() ([]*tlog.Entry, error)                { return e.entries, nil }
func (e *keylessEntity) HasInclusionPromise() bool                          { return len(e.entries) > 0 }
func (e *keylessEntity) Timestamps() ([][]byte, error)                      { return nil, nil }

// A tag-scheme signature is what bundle v0.1 held: a certificate and an
// inclusion promise, no proof.
func (e *keylessEntity) Version() (string, error) { return "v0.1", nil }

var _ verify.SignedEntity = (*keylessEntity)(nil)

// keylessLayer reads a tag-scheme layer's certificate and Rekor entry;
// sig is its signature content.
func keylessLayer(l layerOf, sig verify.SignatureContent) (*keylessEntity, error) {
	certPEM := l.desc.Annotations[CertificateAnnotation]
	if certPEM == "" {
		return nil, errors.New("signed with a key, not keyless: no certificate")
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(certPEM))
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("read its certificate: %v", err)
	}
	e := &keylessEntity{cert: certs[0], sig: sig}
	if raw := l.desc.Annotations[BundleAnnotation]; raw != "" {
		var rb rekorBundle
		if err := json.Unmarshal([]byte(raw), &rb); err != nil {
			return nil, fmt.Errorf("read its Rekor bundle: %w", err)
		}
		logID, err := hex.DecodeString(rb.Payload.LogID)
		if err != nil {
			return nil, fmt.Errorf("read its Rekor bundle's log ID: %w", err)
		}
		entry, err := tlog.NewEntry(rb.Payload.Body, rb.Payload.IntegratedTime, rb.Payload.LogIndex, logID, rb.SignedEntryTimestamp, nil)
		if err != nil {
			return nil, fmt.Errorf("read its Rekor entry: %w", err)
		}
		e.entries = []*tlog.Entry{entry}
	}
	return e, nil
}

// verifyKeylessMessage verifies a keyless simple-signing layer against
// the policy's trusted root and identity.
func verifyKeylessMessage(p Policy, l layerOf) (*verify.VerificationResult, error) {
	sig, err := base64.StdEncoding.DecodeString(l.desc.Annotations[SignatureAnnotation])
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("no signature in its %s annotation", SignatureAnnotation)
	}
	sum := sha256.Sum256(l.content)
	e, err := keylessLayer(l, bundle.NewMessageSignature(sum[:], "SHA2_256", sig))
	if err != nil {
		return nil, err
	}
	return p.check(e, verify.WithArtifact(bytes.NewReader(l.content)))
}

// verifyKeylessEnvelope verifies a keyless DSSE layer (an attestation) and
// returns its statement.
func verifyKeylessEnvelope(p Policy, l layerOf) ([]byte, error) {
	var env dsse.Envelope
	if err := json.Unmarshal(l.content, &env); err != nil {
		return nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	e, err := keylessLayer(l, &bundle.Envelope{Envelope: &env})
	if err != nil {
		return nil, err
	}
	if _, err := p.check(e, verify.WithoutArtifactUnsafe()); err != nil {
		return nil, err
	}
	return env.DecodeB64Payload()
}
