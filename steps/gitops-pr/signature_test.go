package main

// --require-signature through the built binary: images signed and attested
// by the cosign CLI (tools/cosign) in Debian's docker-registry on
// loopback are pinned, and the pull request names the signer and the
// provenance's source commit; an unsigned image or one built elsewhere is
// refused before anything is committed.

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/testenv"
)

// cosign runs the cosign CLI tools/cosign pins in dir, offline, with the
// key password "pw".
func cosign(t *testing.T, dir string, args ...string) {
	t.Helper()
	bin, err := gotool.Build(gotool.Command{Tool: "cosign", Module: "github.com/sigstore/cosign/v2",
		Package: "github.com/sigstore/cosign/v2/cmd/cosign", Env: "GITSHIP_COSIGN"})
	if err != nil {
		testenv.Unavailable(t, "cosign: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=pw", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, ".tuf"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// pushImage puts a random image at repo and returns it by digest.
func pushImage(t *testing.T, repo string) string {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(repo + ":1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return repo + "@" + d.String()
}

func TestRequireSignature(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	keys := t.TempDir()
	cosign(t, keys, "generate-key-pair")
	other := t.TempDir()
	cosign(t, other, "generate-key-pair")
	const built = "89abcdef0123456789abcdef0123456789abcdef"
	os.WriteFile(filepath.Join(keys, "provenance.json"), []byte(`{"buildDefinition":{"buildType":"https://github.com/gitship/gitship/blob/main/docs/build.md#provenance",
"externalParameters":{"repository":"https://github.com/acme/shop","ref":"refs/heads/main"},
"resolvedDependencies":[{"uri":"git+https://github.com/acme/shop@refs/heads/main","digest":{"gitCommit":"`+built+`"}}]},
"runDetails":{"builder":{"id":"https://github.com/acme/shop/actions/runs/9/attempts/1"}}}`), 0o644)

	signed := pushImage(t, reg.Host+"/hello")
	cosign(t, keys, "sign", "--key", "cosign.key", "--tlog-upload=false", "--yes", signed)
	cosign(t, keys, "attest", "--key", "cosign.key", "--tlog-upload=false", "--yes", "--type", "slsaprovenance1", "--predicate", "provenance.json", signed)
	unsigned := pushImage(t, reg.Host+"/hello")
	pub := filepath.Join(keys, "cosign.pub")

	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	set := []string{"--set", "image.repository=" + reg.Host + "/hello"}
	args := func(envName, img string, extra ...string) []string {
		a := []string{"--gitops-repo", repo.url, "--environment", envName, "--chart", "deploy/chart",
			"--values", "deploy/values/{environment}.yaml", "--image", img, "--provider", "none"}
		return append(append(a, set...), extra...)
	}

	// Signed by the key, built from acme/shop main: pinned, and the pull
	// request says by whom and from which commit.
	desc := filepath.Join(t.TempDir(), "pr.md")
	res := run(t, ws, env(ws, sha, t.TempDir()), args("staging", signed, "--require-signature", "key="+pub,
		"--require-provenance", "source=github.com/acme/shop,ref=main", "--description-file", desc)...)
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "Verified "+signed+": signed by key sha256:") {
		t.Errorf("stdout does not say what it verified:\n%s", res.Stdout)
	}
	body, _ := os.ReadFile(desc)
	for _, want := range []string{"| Signed by | key sha256:", "| Built from | https://github.com/acme/shop `refs/heads/main` at [`89abcde`](https://github.com/acme/shop/commit/" + built + ") (signed provenance) |"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("pull request body lacks %q:\n%s", want, body)
		}
	}
	if files := gittest.Files(t, repo.dir, "gitship/hello/staging"); !strings.Contains(files["clusters/staging/hello/deployment-hello.yaml"], signed) {
		t.Errorf("the signed image is not pinned:\n%s", files["clusters/staging/hello/deployment-hello.yaml"])
	}

	for _, tt := range []struct {
		name, img string
		extra     []string
		want      []string
	}{
		{"unsigned", unsigned, []string{"--require-signature", "key=" + pub},
			[]string{"refusing to pin " + unsigned, "image is not signed: expected signed by key sha256:", "found no signature at " + reg.Host + "/hello:sha256-"}},
		{"another key", signed, []string{"--require-signature", "key=" + filepath.Join(other, "cosign.pub")},
			[]string{"refusing to pin " + signed, "no signature verifies", "found signature 1 of 1: by another key"}},
		{"built from elsewhere", signed, []string{"--require-signature", "key=" + pub, "--require-provenance", "source=github.com/acme/other"},
			[]string{"provenance does not match", "from source github.com/acme/other ref (any); found provenance from source https://github.com/acme/shop ref refs/heads/main commit " + built}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, ws, env(ws, sha, t.TempDir()), args("production", tt.img, tt.extra...)...)
			if res.Code != 1 {
				t.Errorf("exit %d, want 1\n%s", res.Code, res.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.Stderr)
				}
			}
			if branches := gittest.Git(t, repo.dir, "branch", "--list", "gitship/hello/production"); branches != "" {
				t.Errorf("a refused image was committed: %s", branches)
			}
		})
	}

	res = run(t, ws, env(ws, sha, t.TempDir()), args("dev", signed, "--require-provenance", "ref=main")...)
	if res.Code != 2 || !strings.Contains(res.Stderr, "--require-provenance needs --require-signature") {
		t.Errorf("provenance without a key: exit %d\n%s", res.Code, res.Stderr)
	}
}

// A keyless signature (cosign's tag-scheme annotations: the Fulcio
// certificate and the Rekor entry), made with sigstore-go's test Sigstore
// and checked against its trusted_root.json: the workflow's identity is
// pinned and named in the pull request; another workflow is refused.
func TestRequireKeylessSignature(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://token.actions.githubusercontent.com"
	const workflow = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
	img := pushImage(t, reg.Host+"/hello")
	d, _ := name.NewDigest(img)
	p, _ := payload.Cosign{Image: d}.MarshalJSON()
	e, err := vs.Sign(workflow, issuer, p)
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := e.VerificationContent()
	certPEM, _ := cryptoutils.MarshalCertificateToPEM(vc.Certificate())
	sc, _ := e.SignatureContent()
	entries, _ := e.TlogEntries()
	tle := entries[0].TransparencyLogEntry()
	logID := hex.EncodeToString(tle.GetLogId().GetKeyId())
	body := base64.StdEncoding.EncodeToString(tle.GetCanonicalizedBody())
	set, err := vs.RekorSignPayload(tlog.RekorPayload{Body: body, IntegratedTime: tle.GetIntegratedTime(), LogIndex: tle.GetLogIndex(), LogID: logID})
	if err != nil {
		t.Fatal(err)
	}
	rekorBundle, _ := json.Marshal(map[string]any{"SignedEntryTimestamp": set,
		"Payload": map[string]any{"body": body, "integratedTime": tle.GetIntegratedTime(), "logIndex": tle.GetLogIndex(), "logID": logID}})
	sig, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), mutate.Addendum{
		Layer:     static.NewLayer(p, "application/vnd.dev.cosign.simplesigning.v1+json"),
		MediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
		Annotations: map[string]string{
			"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sc.MessageSignatureContent().Signature()),
			"dev.sigstore.cosign/certificate":    string(certPEM),
			"dev.sigstore.cosign/bundle":         string(rekorBundle),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sigTag, _ := name.NewTag(reg.Host + "/hello:" + strings.Replace(d.DigestStr(), ":", "-", 1) + ".sig")
	if err := remote.Write(sigTag, sig); err != nil {
		t.Fatal(err)
	}
	logs := map[string]*root.TransparencyLog{}
	for id, l := range vs.RekorLogs() {
		l.ID, _ = hex.DecodeString(id) // the test Sigstore keeps the hex
		logs[id] = l
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), nil, vs.TimestampingAuthorities(), logs)
	if err != nil {
		t.Fatal(err)
	}
	trJSON, _ := tr.MarshalJSON()
	rootFile := filepath.Join(t.TempDir(), "trusted_root.json")
	os.WriteFile(rootFile, trJSON, 0o644)

	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	args := func(envName, subject string, extra ...string) []string {
		return append([]string{"--gitops-repo", repo.url, "--environment", envName, "--chart", "deploy/chart",
			"--values", "deploy/values/{environment}.yaml", "--image", img, "--provider", "none", "--set", "image.repository=" + reg.Host + "/hello",
			"--require-signature", "issuer=" + issuer + ",subject-regexp=" + subject + ",trusted-root=" + rootFile}, extra...)
	}
	desc := filepath.Join(t.TempDir(), "pr.md")
	mustSucceed(t, run(t, ws, env(ws, sha, t.TempDir()), args("staging", "^https://github.com/acme/shop/", "--description-file", desc)...))
	if body, _ := os.ReadFile(desc); !strings.Contains(string(body), "| Signed by | "+workflow+" (issuer "+issuer+")") {
		t.Errorf("pull request body does not name the keyless signer:\n%s", body)
	}
	res := run(t, ws, env(ws, sha, t.TempDir()), args("production", "^https://github.com/acme/other/")...)
	if res.Code != 1 || !strings.Contains(res.Stderr, "expected signed keyless by ^https://github.com/acme/other/ issued by "+issuer+"; found signature 1 of 1: keyless, identity "+workflow) {
		t.Errorf("another workflow: exit %d\n%s", res.Code, res.Stderr)
	}
}
