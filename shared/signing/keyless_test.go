package signing

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/gitship/gitship/internal/registrytest"
)

const (
	githubIssuer = "https://token.actions.githubusercontent.com"
	workflow     = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
)

// keylessSign writes what cosign's keyless signing writes in the tag
// scheme (the signature, the Fulcio certificate and chain, the Rekor
// entry's signed entry timestamp) for d, signed by identity through vs,
// sigstore-go's test Sigstore: a Fulcio CA and a Rekor log made for the
// test.
func keylessSign(t *testing.T, vs *ca.VirtualSigstore, d name.Digest, identity, issuer string) {
	t.Helper()
	p, err := payload.Cosign{Image: d}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	e, err := vs.Sign(identity, issuer, p)
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := e.VerificationContent()
	certPEM, _ := cryptoutils.MarshalCertificateToPEM(vc.Certificate())
	sc, _ := e.SignatureContent()
	entries, _ := e.TlogEntries()
	tle := entries[0].TransparencyLogEntry()
	var rb rekorBundle
	rb.Payload.Body = tle.GetCanonicalizedBody()
	rb.Payload.IntegratedTime = tle.GetIntegratedTime()
	rb.Payload.LogIndex = tle.GetLogIndex()
	rb.Payload.LogID = hex.EncodeToString(tle.GetLogId().GetKeyId())
	// The signed entry timestamp, as Rekor signs it: over the
	// canonical JSON of the entry's body, time, index and log ID.
	set, err := vs.RekorSignPayload(tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(rb.Payload.Body),
		IntegratedTime: rb.Payload.IntegratedTime, LogIndex: rb.Payload.LogIndex, LogID: rb.Payload.LogID})
	if err != nil {
		t.Fatal(err)
	}
	rb.SignedEntryTimestamp = set
	rbJSON, _ := json.Marshal(rb)
	img, err := mutate.Append(emptyImage(), mutate.Addendum{
		Layer:     static.NewLayer(p, SimpleSigningMediaType),
		MediaType: SimpleSigningMediaType,
		Annotations: map[string]string{
			SignatureAnnotation:   base64.StdEncoding.EncodeToString(sc.MessageSignatureContent().Signature()),
			CertificateAnnotation: string(certPEM),
			BundleAnnotation:      string(rbJSON),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(SignatureTag(d), img); err != nil {
		t.Fatal(err)
	}
}

// Keyless verification of cosign's tag-scheme signatures, against a test
// Sigstore (sigstore-go's testing/ca: a real Fulcio-shaped CA chain and a
// Rekor log key, in process) written out as a trusted_root.json: the
// workflow's identity and GitHub's issuer pass; another issuer, another
// workflow, a key policy and another trusted root fail, naming the
// identity found.
func TestKeyless(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	c := New(Options{})
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeRoot := func(vs *ca.VirtualSigstore, file string) string {
		// The test Sigstore names its Rekor log by the hex of its key ID
		// where a trusted_root.json holds the ID itself.
		logs := map[string]*root.TransparencyLog{}
		for id, l := range vs.RekorLogs() {
			raw, err := hex.DecodeString(id)
			if err != nil {
				t.Fatal(err)
			}
			l.ID = raw
			logs[id] = l
		}
		tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), nil, vs.TimestampingAuthorities(), logs)
		if err != nil {
			t.Fatal(err)
		}
		data, err := tr.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, file)
		os.WriteFile(path, data, 0o644)
		return path
	}
	rootFile := writeRoot(vs, "trusted_root.json")
	otherVS, _ := ca.NewVirtualSigstore()
	otherRoot := writeRoot(otherVS, "other_root.json")

	d := push(t, reg.Host+"/shop")
	keylessSign(t, vs, d, workflow, githubIssuer)

	for _, tt := range []struct {
		name, policy string
		err          error
		want         string
	}{
		{"the workflow", "issuer=" + githubIssuer + ",subject-regexp=^https://github.com/acme/shop/,trusted-root=" + rootFile, nil, ""},
		{"exact subject", "issuer=" + githubIssuer + ",subject=" + workflow + ",trusted-root=" + rootFile, nil, ""},
		{"regexp with a comma", "issuer=" + githubIssuer + ",subject-regexp=^https://github.com/acme/s.{1,3}/,trusted-root=" + rootFile, nil, ""},
		{"another workflow", "issuer=" + githubIssuer + ",subject-regexp=^https://github.com/acme/other/,trusted-root=" + rootFile, ErrNotVerified,
			"expected signed keyless by ^https://github.com/acme/other/ issued by " + githubIssuer + "; found signature 1 of 1: keyless, identity " + workflow + " issuer " + githubIssuer},
		{"another issuer", "issuer=https://accounts.google.com,subject-regexp=.*,trusted-root=" + rootFile, ErrNotVerified, "keyless, identity " + workflow},
		{"another Sigstore", "issuer=" + githubIssuer + ",subject-regexp=.*,trusted-root=" + otherRoot, ErrNotVerified, "keyless, identity " + workflow},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.policy, "")
			if err != nil {
				t.Fatal(err)
			}
			found, err := c.Verify(ctx, d, p)
			if tt.err == nil {
				if err != nil || found.Identity != workflow || found.Issuer != githubIssuer {
					t.Errorf("Verify = %+v, %v", found, err)
				}
				return
			}
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify = %v\nwant %v containing %q", err, tt.err, tt.want)
			}
		})
	}

	// A key policy refuses a keyless signature, and says whose it is.
	priv, _ := cosignKey(t, "pw")
	key := mustSigner(t, priv, "pw")
	if _, err := c.Verify(ctx, d, Policy{Key: key.PublicKey()}); !errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "keyless, identity "+workflow) {
		t.Errorf("Verify with a key = %v", err)
	}
	// A keyless policy refuses a key signature.
	e := push(t, reg.Host+"/keyed")
	if _, err := c.Sign(ctx, e, key); err != nil {
		t.Fatal(err)
	}
	p, _ := ParsePolicy("issuer="+githubIssuer+",subject-regexp=.*,trusted-root="+rootFile, "")
	if _, err := c.Verify(ctx, e, p); !errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "signed with a key, not keyless") {
		t.Errorf("keyless Verify of a key signature = %v", err)
	}
}
