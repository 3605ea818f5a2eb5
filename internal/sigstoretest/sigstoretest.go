// Package sigstoretest runs a Sigstore for tests: a Fulcio, a Rekor and
// GitHub Actions' OIDC token endpoint on loopback, with a trusted_root.json
// that trusts them, so keyless signing and verification run offline.
package sigstoretest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-openapi/runtime"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	// The entry kinds sigstore-go's signer sends.
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
)

// Sigstore is a Fulcio, a Rekor and GitHub's OIDC token endpoint on
// loopback, shaped as their APIs are documented: Fulcio's
// POST /api/v2/signingCert (the proof of possession checked, a code-signing
// certificate for the token's workflow and issuer, chained to a CA made for
// the test), Rekor's POST /api/v1/log/entries (the proposed entry
// canonicalized and checked by rekor's own types, with a signed entry
// timestamp and an inclusion proof from sigstore-go's test log), and
// GitHub's ACTIONS_ID_TOKEN_REQUEST_URL. Tokens are not signed: a real
// Fulcio checks them; this one only reads their claims.
type Sigstore struct {
	// FulcioURL and RekorURL are the services' base URLs; TokenURL is
	// GitHub's ACTIONS_ID_TOKEN_REQUEST_URL, which answers the request
	// token RequestToken.
	FulcioURL, RekorURL, TokenURL string
	// TrustedRoot is a trusted_root.json of the Fulcio CA and the Rekor
	// log.
	TrustedRoot string

	fulcio, rekor, oidc *httptest.Server
}

// RequestToken is ACTIONS_ID_TOKEN_REQUEST_TOKEN for TokenURL.
const RequestToken = "request-token"

// Start runs a Sigstore whose tokens carry claims: "iss" the issuer,
// "sub" the subject (what the proof of possession signs) and
// "job_workflow_ref" the workflow Fulcio names, as GitHub's do.
func Start(t testing.TB, claims map[string]any) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	interCert, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	ts := &Sigstore{}
	claimsJSON, _ := json.Marshal(claims)
	token := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString(claimsJSON) + ".c2ln"

	ts.oidc = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+RequestToken || r.URL.Query().Get("audience") != "sigstore" {
			http.Error(w, "bad request token or audience", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"value": token})
	}))
	t.Cleanup(ts.oidc.Close)

	ts.fulcio = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/signingCert" || r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var req struct {
			PublicKeyRequest struct {
				PublicKey struct {
					Content string `json:"content"`
				} `json:"publicKey"`
				ProofOfPossession string `json:"proofOfPossession"`
			} `json:"publicKeyRequest"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(req.PublicKeyRequest.PublicKey.Content))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		pop, _ := base64.StdEncoding.DecodeString(req.PublicKeyRequest.ProofOfPossession)
		v, _ := signature.LoadVerifier(pub, crypto.SHA256)
		if err := v.VerifySignature(bytes.NewReader(pop), strings.NewReader(claims["sub"].(string))); err != nil {
			http.Error(w, "proof of possession: "+err.Error(), http.StatusBadRequest)
			return
		}
		san, _ := url.Parse("https://github.com/" + claims["job_workflow_ref"].(string))
		issuerDER, _ := asn1.MarshalWithParams(claims["iss"].(string), "utf8")
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			NotBefore:    time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
			URIs: []*url.URL{san},
			ExtraExtensions: []pkix.Extension{
				{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}, Value: []byte(claims["iss"].(string))},
				{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: issuerDER},
			},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, interCert, pub, interKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		chain := []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: interCert.Raw})),
			string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootCert.Raw}))}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": chain}}})
	}))
	t.Cleanup(ts.fulcio.Close)

	logID, _ := vs.RekorLogID()
	ts.rekor = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/log/entries" {
			http.Error(w, `{"code":404,"message":"not found"}`, http.StatusNotFound)
			return
		}
		pe, err := models.UnmarshalProposedEntry(r.Body, runtime.JSONConsumer())
		if err != nil {
			http.Error(w, `{"code":400,"message":"bad entry"}`, http.StatusBadRequest)
			return
		}
		entry, err := types.CreateVersionedEntry(pe)
		if err == nil {
			var body []byte
			if body, err = types.CanonicalizeEntry(r.Context(), entry); err == nil {
				integrated := time.Now().Unix()
				set, serr := vs.RekorSignPayload(tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: integrated, LogIndex: 0, LogID: logID})
				proof, perr := vs.GetInclusionProof(body)
				if err = errors.Join(serr, perr); err == nil {
					leaf := sha256.Sum256(append([]byte{0}, body...))
					uuid := hex.EncodeToString(leaf[:])
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("ETag", uuid)
					w.Header().Set("Location", "/api/v1/log/entries/"+uuid)
					w.WriteHeader(http.StatusCreated)
					json.NewEncoder(w).Encode(map[string]any{uuid: map[string]any{
						"body": base64.StdEncoding.EncodeToString(body), "integratedTime": integrated, "logID": logID, "logIndex": 0,
						"verification": map[string]any{"signedEntryTimestamp": set, "inclusionProof": proof},
					}})
					return
				}
			}
		}
		http.Error(w, `{"code":400,"message":"`+err.Error()+`"}`, http.StatusBadRequest)
	}))
	t.Cleanup(ts.rekor.Close)

	logs := map[string]*root.TransparencyLog{}
	for id, l := range vs.RekorLogs() {
		l.ID, _ = hex.DecodeString(id) // the test log keeps the hex
		logs[id] = l
	}
	cas := []root.CertificateAuthority{&root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{interCert},
		ValidityPeriodStart: time.Now().Add(-time.Hour), ValidityPeriodEnd: time.Now().Add(time.Hour), URI: ts.fulcio.URL}}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, nil, nil, logs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	ts.TrustedRoot = filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(ts.TrustedRoot, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ts.FulcioURL, ts.RekorURL, ts.TokenURL = ts.fulcio.URL, ts.rekor.URL, ts.oidc.URL+"/token?api-version=2.0"
	return ts
}
