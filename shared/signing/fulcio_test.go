package signing

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/sigstoretest"
)

// Keyless signing end to end against the test Sigstore: the token from
// GitHub's endpoint, one Fulcio certificate for the run, a Rekor entry per
// signature; the signature and a provenance attestation pushed as
// Sigstore bundles (Debian's registry has no referrers API: under the
// sha256-<hex> referrers tag); Verify with the workflow's identity and the
// trusted root accepts both, and another workflow is refused.
func TestKeylessSign(t *testing.T) {
	claims := map[string]any{"iss": githubIssuer, "sub": "repo:acme/shop:ref:refs/heads/main",
		"job_workflow_ref": "acme/shop/.github/workflows/release.yml@refs/heads/main"}
	ts := sigstoretest.Start(t, claims)
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	c := New(Options{})

	if _, err := GitHubIDToken(ctx, nil, "", ""); !errors.Is(err, ErrNoIDToken) {
		t.Errorf("GitHubIDToken without the variables = %v", err)
	}
	if _, err := GitHubIDToken(ctx, nil, ts.TokenURL, "wrong"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("GitHubIDToken with a wrong request token = %v", err)
	}
	token, err := GitHubIDToken(ctx, nil, ts.TokenURL, sigstoretest.RequestToken)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKeylessSigner(KeylessOptions{FulcioURL: ts.FulcioURL, RekorURL: ts.RekorURL, IDToken: token})
	if err != nil {
		t.Fatal(err)
	}
	d := push(t, reg.Host+"/shop")
	if _, err := c.SignKeyless(ctx, d, k); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttestKeyless(ctx, d, statement(d, "https://github.com/acme/shop", "refs/heads/main", "abc"), k); err != nil {
		t.Fatal(err)
	}
	if sub, iss := k.Identity(); sub != workflow || iss != githubIssuer {
		t.Errorf("Identity = %q, %q", sub, iss)
	}
	if _, err := remote.Head(SignatureTag(d)); err == nil {
		t.Errorf("%s exists: a keyless signature is a bundle", SignatureTag(d))
	}
	p, err := ParsePolicy("issuer="+githubIssuer+",subject-regexp=^https://github.com/acme/shop/,trusted-root="+ts.TrustedRoot, "source=acme/shop,ref=main")
	if err != nil {
		t.Fatal(err)
	}
	found, err := c.Verify(ctx, d, p)
	if err != nil || found.Identity != workflow || found.Issuer != githubIssuer || found.Provenance == nil {
		t.Fatalf("Verify = %+v, %v", found, err)
	}
	// cosign verifies them too, keyless, against the same trusted root
	// (no SCT: the test Fulcio has no CT log).
	dir := t.TempDir()
	for _, args := range [][]string{
		{"verify", "--certificate-identity", workflow, "--certificate-oidc-issuer", githubIssuer, "--insecure-ignore-sct", "--trusted-root", ts.TrustedRoot, d.String()},
		{"verify-attestation", "--type", "slsaprovenance1", "--certificate-identity", workflow, "--certificate-oidc-issuer", githubIssuer, "--insecure-ignore-sct", "--trusted-root", ts.TrustedRoot, d.String()},
	} {
		if out, err := runCosign(t, dir, args...); err != nil {
			t.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	p.SubjectRegexp = "^https://github.com/acme/other/"
	if _, err := c.Verify(ctx, d, p); !errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "keyless, identity "+workflow) {
		t.Errorf("Verify another workflow = %v", err)
	}
}
