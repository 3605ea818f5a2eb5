package signing

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/testenv"
)

// cosign is the cosign CLI tools/cosign pins, built once per machine.
func cosign(t testing.TB) string {
	t.Helper()
	bin, err := gotool.Build(gotool.Command{Tool: "cosign", Module: "github.com/sigstore/cosign/v2",
		Package: "github.com/sigstore/cosign/v2/cmd/cosign", Env: "GITSHIP_COSIGN"})
	if err != nil {
		testenv.Unavailable(t, "cosign: %v", err)
	}
	return bin
}

// runCosign runs cosign in dir offline: a HOME of its own, and for verify
// and verify-attestation an empty trusted root (--trusted-root), so that
// it does not try to fetch Sigstore's from its TUF repository.
func runCosign(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	if len(args) > 0 && strings.HasPrefix(args[0], "verify") && !slices.Contains(args, "--trusted-root") {
		root := filepath.Join(dir, "trusted-root.json")
		if err := os.WriteFile(root, []byte(emptyTrustedRoot), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append([]string{args[0], "--trusted-root", root}, args[1:]...)
	}
	cmd := exec.Command(cosign(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=pw", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// What Sign and Attest write, cosign verifies: cosign's own key file
// opened by LoadSigner, `cosign verify --key` and `cosign
// verify-attestation --type slsaprovenance1` and `--type spdxjson` pass
// on the digest. And the other way: what `cosign sign` and `cosign
// attest` write, Verify accepts.
func TestCosignInterop(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	dir := t.TempDir()
	if out, err := runCosign(t, dir, "generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	priv, _ := os.ReadFile(filepath.Join(dir, "cosign.key"))
	pub, _ := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	key := mustSigner(t, priv, "pw")
	pubKey, err := LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := New(Options{})

	d := push(t, reg.Host+"/gitship-signed")
	if _, err := c.Sign(ctx, d, key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Attest(ctx, d, statement(d, "https://github.com/acme/shop", "refs/heads/main", "0123456789abcdef0123456789abcdef01234567"), key); err != nil {
		t.Fatal(err)
	}
	spdx := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"` + d.Context().Name() + `","digest":{"sha256":"` +
		strings.TrimPrefix(d.DigestStr(), "sha256:") + `"}}],"predicateType":"https://spdx.dev/Document","predicate":{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","dataLicense":"CC0-1.0","documentNamespace":"https://example.com/x","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: gitship"]},"packages":[]}}`)
	if _, err := c.Attest(ctx, d, spdx, key); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog", d.String()},
		{"verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", d.String()},
		{"verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "spdxjson", d.String()},
	} {
		if out, err := runCosign(t, dir, args...); err != nil {
			t.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// cosign refuses another key, as Verify does.
	other := t.TempDir()
	runCosign(t, other, "generate-key-pair")
	if out, err := runCosign(t, dir, "verify", "--key", filepath.Join(other, "cosign.pub"), "--insecure-ignore-tlog", d.String()); err == nil {
		t.Errorf("cosign verify with another key passed:\n%s", out)
	}

	// cosign's own signature and attestation, read by Verify.
	e := push(t, reg.Host+"/cosign-signed")
	if out, err := runCosign(t, dir, "sign", "--key", "cosign.key", "--tlog-upload=false", "--yes", e.String()); err != nil {
		t.Fatalf("cosign sign: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "predicate.json"), []byte(`{"buildDefinition":{"buildType":"x","externalParameters":{"repository":"https://github.com/acme/shop","ref":"refs/heads/main"}},"runDetails":{"builder":{"id":"https://example.com/run/1"}}}`), 0o644)
	if out, err := runCosign(t, dir, "attest", "--key", "cosign.key", "--tlog-upload=false", "--yes", "--type", "slsaprovenance1", "--predicate", "predicate.json", e.String()); err != nil {
		t.Fatalf("cosign attest: %v\n%s", err, out)
	}
	found, err := c.Verify(ctx, e, Policy{Key: pubKey, Source: "acme/shop", Ref: "main"})
	if err != nil || found.Provenance == nil || found.Provenance.BuilderID != "https://example.com/run/1" {
		t.Errorf("Verify of cosign's signature and attestation = %+v, %v", found, err)
	}
}
