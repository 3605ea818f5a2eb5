package signing

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// ErrNoIDToken is returned when keyless signing finds no OIDC token: none
// given, and not on GitHub Actions with `permissions: id-token: write`.
var ErrNoIDToken = errors.New("no OIDC token for keyless signing: on GitHub Actions give the job `permissions: id-token: write`; elsewhere pass the CI's OIDC token (--oidc-token)")

// KeylessOptions configure a KeylessSigner.
type KeylessOptions struct {
	// FulcioURL and RekorURL are Sigstore's: https://fulcio.sigstore.dev
	// and https://rekor.sigstore.dev, or a private deployment's.
	FulcioURL, RekorURL string
	// IDToken is the OIDC token Fulcio certifies the identity of.
	IDToken string
	// Transport carries the requests to Fulcio; nil is the default.
	Transport http.RoundTripper
}

// KeylessSigner signs with an ephemeral key that Fulcio certifies for the
// OIDC token's identity, and logs every signature in Rekor: what `cosign
// sign` does without --key. One certificate serves the whole run.
type KeylessSigner struct {
	keypair *sign.EphemeralKeypair
	certs   *onceCertificate
	rekor   sign.Transparency
	idToken string
}

// NewKeylessSigner makes the ephemeral key; nothing is asked of Fulcio
// until the first signature.
func NewKeylessSigner(o KeylessOptions) (*KeylessSigner, error) {
	if o.IDToken == "" {
		return nil, ErrNoIDToken
	}
	for _, u := range []string{o.FulcioURL, o.RekorURL} {
		if pu, err := url.Parse(u); err != nil || pu.Host == "" {
			return nil, fmt.Errorf("keyless signing: %q is not a URL", u)
		}
	}
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, err
	}
	return &KeylessSigner{
		keypair: kp,
		certs:   &onceCertificate{inner: sign.NewFulcio(&sign.FulcioOptions{BaseURL: o.FulcioURL, Retries: 2, Transport: o.Transport})},
		rekor:   sign.NewRekor(&sign.RekorOptions{BaseURL: o.RekorURL, Retries: 2}),
		idToken: o.IDToken,
	}, nil
}

// Identity is the certificate's subject and issuer, once it signed.
func (k *KeylessSigner) Identity() (subject, issuer string) {
	if k.certs.cert == nil {
		return "", ""
	}
	sum, err := certificate.SummarizeCertificate(k.certs.cert)
	if err != nil {
		return "", ""
	}
	return sum.SubjectAlternativeName, sum.Issuer
}

// onceCertificate asks Fulcio once and hands the same certificate to every
// signature of the run.
type onceCertificate struct {
	inner sign.CertificateProvider
	mu    sync.Mutex
	der   []byte
	cert  *x509.Certificate
}

func (o *onceCertificate) GetCertificate(ctx context.Context, kp sign.Keypair, opts *sign.CertificateProviderOptions) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.der != nil {
		return o.der, nil
	}
	der, err := o.inner.GetCertificate(ctx, kp, opts)
	if err != nil {
		return nil, fmt.Errorf("Fulcio: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("Fulcio's certificate: %w", err)
	}
	o.der, o.cert = der, cert
	return der, nil
}

// bundle signs statement keyless into a Sigstore bundle, JSON.
func (k *KeylessSigner) bundle(ctx context.Context, statement []byte) ([]byte, error) {
	b, err := sign.Bundle(&sign.DSSEData{Data: statement, PayloadType: InTotoPayloadType}, k.keypair, sign.BundleOptions{
		Context:                    ctx,
		CertificateProvider:        k.certs,
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: k.idToken},
		TransparencyLogs:           []sign.Transparency{k.rekor},
	})
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(b)
}

// SignKeyless signs d keyless, as `cosign sign --new-bundle-format` does:
// a Sigstore bundle (certificate, Rekor entry) around cosign's signing
// statement, pushed as a referrer of d (under the sha256-<hex> referrers
// tag where the registry has no referrers API).
func (c *Client) SignKeyless(ctx context.Context, d name.Digest, k *KeylessSigner) (Written, error) {
	st, err := signStatement(d)
	if err != nil {
		return Written{}, err
	}
	b, err := k.bundle(ctx, st)
	if err != nil {
		return Written{}, fmt.Errorf("sign %s keyless: %w", d, err)
	}
	w, err := c.pushBundle(ctx, d, b, CosignSignPredicateType)
	w.Scheme = ReferrersScheme
	return w, err
}

// AttestKeyless attests statement about d keyless, a bundle referrer of d.
func (c *Client) AttestKeyless(ctx context.Context, d name.Digest, statement []byte, k *KeylessSigner) (Written, error) {
	pt, err := checkStatement(statement, d, false)
	if err != nil {
		return Written{}, fmt.Errorf("attest %s: %w", d, err)
	}
	b, err := k.bundle(ctx, statement)
	if err != nil {
		return Written{}, fmt.Errorf("attest %s keyless: %w", d, err)
	}
	w, err := c.pushBundle(ctx, d, b, pt)
	w.Scheme, w.Attestation = ReferrersScheme, true
	return w, err
}

// GitHubIDToken asks GitHub Actions for the job's OIDC token with the
// audience Fulcio expects ("sigstore"), from ACTIONS_ID_TOKEN_REQUEST_URL
// with ACTIONS_ID_TOKEN_REQUEST_TOKEN. The job needs `permissions:
// id-token: write`, without which GitHub sets neither.
func GitHubIDToken(ctx context.Context, client *http.Client, requestURL, requestToken string) (string, error) {
	if requestURL == "" || requestToken == "" {
		return "", ErrNoIDToken
	}
	u, err := url.Parse(requestURL)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", "sigstore")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("ask GitHub for an OIDC token: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("ask GitHub for an OIDC token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ask GitHub for an OIDC token: %s", resp.Status)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(data, &v); err != nil || v.Value == "" {
		return "", fmt.Errorf("ask GitHub for an OIDC token: no token in its answer")
	}
	return v.Value, nil
}
