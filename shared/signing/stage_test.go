package signing

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/registrytest"
)

// sbomStatement is an in-toto Statement v1 with an SPDX predicate about d.
func sbomStatement(d name.Digest) []byte {
	h := strings.TrimPrefix(d.DigestStr(), "sha256:")
	return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"` + h +
		`"}}],"predicateType":"https://spdx.dev/Document","predicate":{"spdxVersion":"SPDX-2.3"}}`)
}

// Stage makes the signature and attestations of an image not pushed yet,
// uploads their blobs and names nothing: a push that fails there leaves
// no signature behind. Commit, once the image is there, writes the .sig
// and one .att holding both attestations, which Verify accepts; staging
// again for a re-run changes nothing in the .sig and keeps one attestation
// of each type.
func TestStage(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	c := New(Options{})
	priv, _ := cosignKey(t, "pw")
	key := mustSigner(t, priv, "pw")
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := img.Digest()
	repo, _ := name.NewRepository(reg.Host+"/staged", name.Insecure)
	d := repo.Digest(h.String())
	const commit = "0123456789abcdef0123456789abcdef01234567"
	atts := []Attestation{
		{Image: d, Statement: statement(d, "https://github.com/acme/shop", "refs/heads/main", commit), What: "provenance"},
		{Image: d, Statement: sbomStatement(d), What: "SBOM"},
	}
	st, err := c.Stage(ctx, d, key, atts)
	if err != nil {
		t.Fatalf("Stage = %v", err)
	}
	for _, tag := range []name.Tag{SignatureTag(d), AttestationTag(d)} {
		if _, err := remote.Head(tag); err == nil {
			t.Errorf("%s exists before Commit", tag)
		}
	}
	if err := remote.Write(repo.Tag("v1"), img); err != nil {
		t.Fatal(err)
	}
	written, whats, errs := st.Commit(ctx)
	if err := errors.Join(errs...); err != nil || len(written) != 2 {
		t.Fatalf("Commit = %+v, %v", written, err)
	}
	if written[0].Ref != SignatureTag(d).String() || written[1].Ref != AttestationTag(d).String() || whats[1] != "provenance and SBOM" {
		t.Errorf("Commit wrote %+v (%q)", written, whats)
	}
	found, err := c.Verify(ctx, d, Policy{Key: key.PublicKey(), Source: "acme/shop", Ref: "main"})
	if err != nil || found.Signatures != 1 || found.Provenance == nil || found.Provenance.Commit != commit {
		t.Fatalf("Verify = %+v, %v", found, err)
	}

	st, err = c.Stage(ctx, d, key, atts)
	if err != nil {
		t.Fatal(err)
	}
	written, _, errs = st.Commit(ctx)
	if err := errors.Join(errs...); err != nil || !written[0].Unchanged {
		t.Errorf("second Commit = %+v, %v; want the signature unchanged", written, err)
	}
	att, err := remote.Image(AttestationTag(d))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := att.Manifest()
	var types []string
	for _, l := range m.Layers {
		types = append(types, l.Annotations[PredicateTypeAnnotation])
	}
	if strings.Join(types, " ") != SLSAProvenanceV1+" https://spdx.dev/Document" {
		t.Errorf("%s holds %v, want one provenance and one SBOM", AttestationTag(d), types)
	}
}

// A registry with the referrers API is not staged: a referrer names its
// subject, which must be there; nor is one that answers NAME_UNKNOWN for
// a repository not pushed yet, as go-containerregistry's does.
func TestStageNotStaged(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	key := mustSigner(t, pkcs8(t, must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))), "")
	for _, tt := range []struct{ name, repo string }{
		{"existing repository", "shop"},
		{"new repository", "new"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := push(t, host+"/shop")
			if tt.repo != "shop" {
				r, _ := name.NewRepository(host+"/"+tt.repo, name.Insecure)
				d = r.Digest(d.DigestStr())
			}
			if _, err := New(Options{}).Stage(ctx, d, key, nil); !errors.Is(err, ErrNotStaged) {
				t.Errorf("Stage = %v; want ErrNotStaged", err)
			}
		})
	}
}

// pings counts the pings (GET /v2/) a transport carries. A ping of a
// registry named insecure tries HTTPS first, then plain HTTP, which
// registrytest's answers: the second is the one counted.
type pings struct {
	inner http.RoundTripper
	n     atomic.Int32
}

func (p *pings) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.URL.Path == "/v2/" && req.URL.Scheme == "http" {
		p.n.Add(1)
	}
	return p.inner.RoundTrip(req)
}

// Signing and attesting an image pings its registry a few times in all,
// not once per request: on a registry a round trip away each ping is one
// more, and on a busy one each waits its turn behind the image's upload.
// One Client stages, commits, signs again and verifies; with Reuse, the
// pusher and puller of a registry client that pinged already, it pings
// only for the referrers probe, which reads the answer itself. (Before
// Reuse each call pinged: 14 for the same work.)
func TestPingsOncePerRepository(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	priv, _ := cosignKey(t, "pw")
	key := mustSigner(t, priv, "pw")
	for _, tt := range []struct {
		name  string
		reuse bool
		max   int32
	}{
		{"own pusher and puller", false, 3},
		{"a registry client's", true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := push(t, reg.Host+"/pings/"+strings.NewReplacer(" ", "-", "'", "").Replace(tt.name))
			tr := &pings{inner: http.DefaultTransport}
			o := Options{Transport: tr}
			if tt.reuse {
				pusher := must(remote.NewPusher(remote.WithTransport(tr)))
				puller := must(remote.NewPuller(remote.WithTransport(tr)))
				// The registry client's push pinged already.
				if _, err := puller.Head(ctx, d); err != nil {
					t.Fatal(err)
				}
				if err := pusher.Push(ctx, d.Context().Tag("again"), must(remote.Image(d))); err != nil {
					t.Fatal(err)
				}
				tr.n.Store(0)
				o.Reuse = []remote.Option{remote.Reuse(pusher), remote.Reuse(puller)}
			}
			c := New(o)
			st, err := c.Stage(ctx, d, key, []Attestation{{Image: d, Statement: sbomStatement(d), What: "SBOM"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, errs := st.Commit(ctx); errors.Join(errs...) != nil {
				t.Fatal(errors.Join(errs...))
			}
			if _, err := c.Sign(ctx, d, key); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Verify(ctx, d, Policy{Key: key.PublicKey()}); err != nil {
				t.Fatal(err)
			}
			if got := tr.n.Load(); got > tt.max {
				t.Errorf("%d pings for a stage, a commit, a signature and a verification; want at most %d", got, tt.max)
			}
		})
	}
}
