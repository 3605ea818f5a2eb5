package signing

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/registrytest"
)

// emptyTrustedRoot is a Sigstore trusted root with nothing in it: given to
// cosign verify --key with --trusted-root, it keeps cosign from fetching
// Sigstore's TUF repository, and lets it verify bundles with the key
// alone.
const emptyTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`

// The referrers scheme, where a registry serves the OCI 1.1 referrers
// API: no registry installed here does (Debian's docker-registry and
// distribution v3.1 both answer 404), so go-containerregistry's
// in-memory registry with referrers support stands in. Sign and Attest
// push Sigstore bundles as referrers and no .sig or .att tag; Verify and
// cosign verify --key (with an empty trusted root) both accept them; Copy
// to Debian's registry, which has no referrers API, lists them under the
// referrers tag schema, where cosign verify finds them too.
func TestReferrers(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	plain := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	c := New(Options{})
	dir := t.TempDir()
	if out, err := runCosign(t, dir, "generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	priv, _ := os.ReadFile(filepath.Join(dir, "cosign.key"))
	key := mustSigner(t, priv, "pw")

	for _, tt := range []struct {
		host string
		want Scheme
	}{{host, ReferrersScheme}, {plain.Host, TagScheme}} {
		d := push(t, tt.host+"/probe")
		if got, err := c.Scheme(ctx, d); got != tt.want || err != nil {
			t.Errorf("Scheme(%s) = %v, %v; want %v", tt.host, got, err, tt.want)
		}
	}

	d := push(t, host+"/shop")
	w, err := c.Sign(ctx, d, key)
	if err != nil || w.Scheme != ReferrersScheme {
		t.Fatalf("Sign = %+v, %v", w, err)
	}
	if w2, err := c.Sign(ctx, d, key); err != nil || !w2.Unchanged {
		t.Errorf("second Sign = %+v, %v; want unchanged", w2, err)
	}
	if _, err := c.Attest(ctx, d, statement(d, "https://github.com/acme/shop", "refs/heads/main", "abc"), key); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []name.Tag{SignatureTag(d), AttestationTag(d)} {
		if _, err := remote.Head(tag); err == nil {
			t.Errorf("%s exists: one image gets one scheme", tag)
		}
	}
	found, err := c.Verify(ctx, d, Policy{Key: key.PublicKey(), Source: "acme/shop", Ref: "main"})
	if err != nil || found.Signatures != 1 || found.Provenance == nil {
		t.Errorf("Verify = %+v, %v", found, err)
	}
	for _, args := range [][]string{
		{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog", d.String()},
		{"verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", d.String()},
	} {
		if out, err := runCosign(t, dir, args...); err != nil {
			t.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	img, _ := remote.Image(d)
	dst, err := name.NewDigest(plain.Host + "/shop@" + d.DigestStr())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, img); err != nil {
		t.Fatal(err)
	}
	ws, err := c.Copy(ctx, d, dst)
	if err != nil || len(ws) != 2 {
		t.Fatalf("Copy = %+v, %v", ws, err)
	}
	if out, err := runCosign(t, dir, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", dst.String()); err != nil {
		t.Errorf("cosign verify of the copy: %v\n%s", err, out)
	}

	unsigned := push(t, host+"/unsigned")
	if _, err := c.Verify(ctx, unsigned, Policy{Key: key.PublicKey()}); err == nil || !strings.Contains(err.Error(), "nor among its OCI referrers") {
		t.Errorf("Verify unsigned = %v", err)
	}
}
