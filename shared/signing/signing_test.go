package signing

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/gitship/gitship/internal/registrytest"
)

// cosignKey is a key pair in cosign's own format (sigstore's cryptoutils
// writes what `cosign generate-key-pair` writes): an ENCRYPTED SIGSTORE
// PRIVATE KEY (scrypt and secretbox) and its public key.
func cosignKey(t testing.TB, password string) (priv, pub []byte) {
	t.Helper()
	priv, pub, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte(password)))
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func pkcs8(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func mustSigner(t testing.TB, priv []byte, password string) *Signer {
	t.Helper()
	s, err := LoadSigner(priv, []byte(password))
	if err != nil {
		t.Fatalf("LoadSigner = %v", err)
	}
	return s
}

// push puts a random image in repo and returns it by digest.
func push(t testing.TB, repo string) name.Digest {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(repo+":latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return ref.Context().Digest(d.String())
}

// statement is an in-toto Statement v1 with a SLSA v1 predicate about d,
// built from source at ref, shaped as shared/provenance writes it.
func statement(d name.Digest, source, ref, commit string) []byte {
	h := strings.TrimPrefix(d.DigestStr(), "sha256:")
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1",
"subject":[{"name":%q,"digest":{"sha256":%q}}],
"predicateType":"https://slsa.dev/provenance/v1",
"predicate":{"buildDefinition":{"buildType":"https://gitship.dev/build/v1",
 "externalParameters":{"repository":%q,"ref":%q},
 "resolvedDependencies":[{"uri":"git+%s@%s","digest":{"gitCommit":%q}}]},
 "runDetails":{"builder":{"id":"https://github.com/acme/shop/actions/runs/1/attempts/1"}}}}`,
		d.Context().Name(), h, source, ref, source, ref, commit))
}

func TestLoadSigner(t *testing.T) {
	cosignPriv, _ := cosignKey(t, "right")
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	for _, tt := range []struct {
		name     string
		pem      []byte
		password string
		err      error
		want     string
	}{
		{"cosign key", cosignPriv, "right", nil, ""},
		{"cosign key, wrong password", cosignPriv, "wrong", ErrKeyPassword, "ENCRYPTED SIGSTORE PRIVATE KEY"},
		{"cosign key, no password", cosignPriv, "", ErrKeyPassword, "no password was given"},
		{"PKCS#8 P-256", pkcs8(t, ec), "", nil, ""},
		{"SEC 1 P-256", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), "", nil, ""},
		{"Ed25519", pkcs8(t, ed), "", nil, ""},
		{"P-384", pkcs8(t, p384), "", ErrKey, "want P-256"},
		{"RSA", pkcs8(t, rsaKey), "", ErrKey, "want ECDSA P-256 or Ed25519"},
		{"not PEM", []byte("hello"), "", ErrKey, "no PEM block"},
		{"a public key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), "", ErrKey, "PUBLIC KEY"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadSigner(tt.pem, []byte(tt.password))
			if tt.err == nil {
				if err != nil || !strings.HasPrefix(s.KeyID, "sha256:") {
					t.Fatalf("LoadSigner = %v, %v", s, err)
				}
				return
			}
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadSigner = %v; want %v containing %q", err, tt.err, tt.want)
			}
		})
	}
}

// Sign and Verify round trip on Debian's registry (distribution 2.8, tag
// scheme), for a cosign key and an Ed25519 key; another key, an unsigned
// image and a signature of another image copied over are refused, naming
// the key expected and what was found.
func TestSignVerify(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	c := New(Options{})
	cosignPriv, _ := cosignKey(t, "pw")
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	other := mustSigner(t, pkcs8(t, must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))), "")
	for _, tt := range []struct {
		name string
		key  *Signer
	}{
		{"cosign key", mustSigner(t, cosignPriv, "pw")},
		{"Ed25519", mustSigner(t, pkcs8(t, ed), "")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := push(t, reg.Host+"/shop-"+strings.ReplaceAll(strings.ToLower(tt.name), " ", "-"))
			w, err := c.Sign(ctx, d, tt.key)
			if err != nil || w.Ref != SignatureTag(d).String() || w.Unchanged {
				t.Fatalf("Sign = %+v, %v", w, err)
			}
			// Signing again adds nothing: the same key signed this payload.
			if w2, err := c.Sign(ctx, d, tt.key); err != nil || !w2.Unchanged || w2.Digest != w.Digest {
				t.Errorf("second Sign = %+v, %v; want unchanged %s", w2, err, w.Digest)
			}
			found, err := c.Verify(ctx, d, Policy{Key: tt.key.PublicKey(), KeyName: "cosign.pub"})
			if err != nil || found.Identity != "key "+tt.key.KeyID || found.Signatures != 1 {
				t.Fatalf("Verify = %+v, %v", found, err)
			}
			_, err = c.Verify(ctx, d, Policy{Key: other.PublicKey(), KeyName: "other.pub"})
			if !errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "expected signed by key "+other.KeyID+" (other.pub)") ||
				!strings.Contains(err.Error(), "signature 1 of 1: by another key") {
				t.Errorf("Verify with another key = %v", err)
			}
		})
	}

	unsigned := push(t, reg.Host+"/unsigned")
	key := mustSigner(t, cosignPriv, "pw")
	_, err := c.Verify(ctx, unsigned, Policy{Key: key.PublicKey()})
	if !errors.Is(err, ErrUnsigned) || !strings.Contains(err.Error(), "no signature at "+SignatureTag(unsigned).String()) {
		t.Errorf("Verify unsigned = %v", err)
	}

	// A signature of one image, copied to another's .sig tag, does not
	// sign that other image.
	signed := push(t, reg.Host+"/copied")
	if _, err := c.Sign(ctx, signed, key); err != nil {
		t.Fatal(err)
	}
	victim := push(t, reg.Host+"/copied")
	sigImg, err := remote.Image(SignatureTag(signed))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(SignatureTag(victim), sigImg); err != nil {
		t.Fatal(err)
	}
	_, err = c.Verify(ctx, victim, Policy{Key: key.PublicKey()})
	if !errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), "it signs "+signed.DigestStr()+", not "+victim.DigestStr()) {
		t.Errorf("Verify a copied signature = %v", err)
	}
}

// Attest and Verify with a provenance requirement: the source and ref the
// provenance names pass, another source or ref fails naming both; a
// statement about another image is not signed.
func TestAttestProvenance(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	c := New(Options{})
	priv, _ := cosignKey(t, "pw")
	key := mustSigner(t, priv, "pw")
	d := push(t, reg.Host+"/shop")
	const commit = "0123456789abcdef0123456789abcdef01234567"
	if _, err := c.Sign(ctx, d, key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Attest(ctx, d, statement(d, "https://github.com/acme/shop", "refs/heads/main", commit), key); err != nil {
		t.Fatal(err)
	}
	// A second attestation of the same type by the same key replaces the
	// first.
	w, err := c.Attest(ctx, d, statement(d, "https://github.com/acme/shop", "refs/heads/main", commit), key)
	if err != nil {
		t.Fatal(err)
	}
	att, _ := remote.Image(AttestationTag(d))
	if m, _ := att.Manifest(); len(m.Layers) != 1 || m.Layers[0].Annotations[PredicateTypeAnnotation] != SLSAProvenanceV1 {
		t.Errorf("%s has %d layers, want 1 provenance: %+v", w.Ref, len(m.Layers), m.Layers)
	}

	for _, tt := range []struct {
		name, source, ref string
		err               string
	}{
		{"same", "https://github.com/acme/shop", "refs/heads/main", ""},
		{"short names", "acme/shop", "main", ""},
		{"other source", "github.com/evil/shop", "main", "expected SLSA provenance signed by key " + key.KeyID + " from source github.com/evil/shop ref main; found provenance from source https://github.com/acme/shop ref refs/heads/main commit " + commit},
		{"other ref", "acme/shop", "release", "ref refs/heads/main commit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			found, err := c.Verify(ctx, d, Policy{Key: key.PublicKey(), Source: tt.source, Ref: tt.ref})
			if tt.err == "" {
				if err != nil || found.Provenance == nil || found.Provenance.Commit != commit {
					t.Errorf("Verify = %+v, %v", found, err)
				}
				return
			}
			if !errors.Is(err, ErrProvenance) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Verify = %v\nwant %s", err, tt.err)
			}
		})
	}

	other := push(t, reg.Host+"/shop")
	if _, err := c.Attest(ctx, d, statement(other, "x", "y", commit), key); err == nil || !strings.Contains(err.Error(), "statement's subject does not name "+d.DigestStr()) {
		t.Errorf("Attest of a statement about another image = %v", err)
	}
	// Signed but with no provenance: the requirement fails and says so.
	if _, err := c.Sign(ctx, other, key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(ctx, other, Policy{Key: key.PublicKey(), Source: "acme/shop"}); !errors.Is(err, ErrProvenance) ||
		!strings.Contains(err.Error(), "no attestation at "+AttestationTag(other).String()) {
		t.Errorf("Verify without provenance = %v", err)
	}
}

// Copy carries the .sig and .att to another registry, where they verify,
// and keeps a signature the destination had.
func TestCopy(t *testing.T) {
	staging := registrytest.Start(t, registrytest.Options{})
	prod := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	c := New(Options{})
	priv, _ := cosignKey(t, "pw")
	key := mustSigner(t, priv, "pw")
	prodKey := mustSigner(t, pkcs8(t, must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))), "")
	src := push(t, staging.Host+"/shop")
	if _, err := c.Sign(ctx, src, key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Attest(ctx, src, statement(src, "acme/shop", "main", "abc"), key); err != nil {
		t.Fatal(err)
	}
	img, _ := remote.Image(src)
	dst, err := name.NewDigest(prod.Host+"/shop@"+src.DigestStr(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, img); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign(ctx, dst, prodKey); err != nil {
		t.Fatal(err)
	}
	ws, err := c.Copy(ctx, src, dst)
	if err != nil || len(ws) != 2 {
		t.Fatalf("Copy = %+v, %v", ws, err)
	}
	for _, k := range []*Signer{key, prodKey} {
		if _, err := c.Verify(ctx, dst, Policy{Key: k.PublicKey()}); err != nil {
			t.Errorf("Verify the copy with %s = %v", k.KeyID, err)
		}
	}
	if found, err := c.Verify(ctx, dst, Policy{Key: key.PublicKey(), Source: "acme/shop", Ref: "main"}); err != nil || found.Provenance == nil {
		t.Errorf("Verify the copy's provenance = %+v, %v", found, err)
	}
	again, err := c.Copy(ctx, src, dst)
	if err != nil || len(again) != 2 || !again[0].Unchanged || !again[1].Unchanged {
		t.Errorf("second Copy = %+v, %v; want both unchanged", again, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
