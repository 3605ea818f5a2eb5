package main

// The supply-chain part of publish through the built binary: signing and
// attesting with a key from cosign generate-key-pair, checked by the
// cosign CLI (tools/cosign); promotion that verifies first and copies the
// signatures; and the failures a user meets.

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/sigstoretest"
	"github.com/gitship/gitship/internal/steptest"
	"github.com/gitship/gitship/internal/testenv"
	"github.com/gitship/gitship/shared/ocilayout"
)

// cosign runs the cosign CLI tools/cosign pins (built once per machine)
// in dir, offline: a HOME of its own, and for verify and
// verify-attestation an empty trusted root, so that it does not try to
// fetch Sigstore's from its TUF repository (with --key it needs none).
func cosign(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	if len(args) > 0 && strings.HasPrefix(args[0], "verify") {
		root := filepath.Join(dir, "trusted-root.json")
		if err := os.WriteFile(root, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append([]string{args[0], "--trusted-root", root}, args[1:]...)
	}
	bin, err := gotool.Build(gotool.Command{Tool: "cosign", Module: "github.com/sigstore/cosign/v2",
		Package: "github.com/sigstore/cosign/v2/cmd/cosign", Env: "GITSHIP_COSIGN"})
	if err != nil {
		testenv.Unavailable(t, "cosign: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=pw", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, ".tuf"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// keyPair writes cosign.key (password "pw") and cosign.pub in dir with
// cosign generate-key-pair: the real key format.
func keyPair(t *testing.T, dir string) {
	t.Helper()
	if out, err := cosign(t, dir, "generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
}

// origin is the checkout's remote: the source the provenance names.
const origin = "https://github.com/acme/shop.git"

func mustCosign(t *testing.T, dir string, args ...string) {
	t.Helper()
	if out, err := cosign(t, dir, args...); err != nil {
		t.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Publish with a key: cosign verify and verify-attestation --type
// slsaprovenance1 pass on the digest. Promotion that requires the
// signature and the provenance's source copies both, and cosign verify
// passes on the promoted repository.
func TestSignAndPromote(t *testing.T) {
	staging := registrytest.Start(t, registrytest.Options{})
	prod := registrytest.Start(t, registrytest.Options{})
	ws, sha := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	keyPair(t, ws)
	want := layout(t, filepath.Join(ws, "img"), nil)
	env := map[string]string{"GITSHIP_SIGNING_KEY_PASSWORD": "pw"}
	res := steptest.Run(t, binary, ws, env, "--image", "oci:img", "--repository", staging.Host+"/shop", "--insecure",
		"--signing-key", "cosign.key")
	mustSucceed(t, res)
	out := steptest.Outputs(t, ws, "publish")
	image := staging.Host + "/shop@" + want.String()
	sigTag := staging.Host + "/shop:" + strings.Replace(want.String(), ":", "-", 1) + ".sig"
	if out["signed"] != "true" || out["signature"] != sigTag || out["attestations"] != strings.TrimSuffix(sigTag, ".sig")+".att" {
		t.Errorf("outputs %v", out)
	}
	if !strings.Contains(res.Stdout, "Signed "+image+" by key sha256:") {
		t.Errorf("stdout does not say it signed:\n%s", res.Stdout)
	}
	mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", image)
	mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", image)
	mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "spdxjson", image)

	// Promote what was verified; the signatures go along.
	res = steptest.Run(t, binary, ws, nil, "--promote-from", staging.Host+"/shop:"+sha, "--repository", prod.Host+"/shop",
		"--insecure", "--require-signature", "key=cosign.pub", "--require-provenance", "source=github.com/acme/shop,ref=main")
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "Verified "+image+": signed by key sha256:") {
		t.Errorf("stdout does not say what it verified:\n%s", res.Stdout)
	}
	promoted := prod.Host + "/shop@" + want.String()
	mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", promoted)
	mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", promoted)
	mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "spdxjson", promoted)
	if out := steptest.Outputs(t, ws, "publish"); out["signed"] != "true" || !strings.HasPrefix(out["signature"], prod.Host+"/shop:sha256-") {
		t.Errorf("promotion outputs %v", out)
	}
	t.Log(res.Stdout)
}

// --require-signature refuses an unsigned image, one signed by another key
// and one built from elsewhere: exit 1, naming the key expected and what
// was found; nothing is tagged at the destination.
func TestRequireSignatureRefuses(t *testing.T) {
	staging := registrytest.Start(t, registrytest.Options{})
	prod := registrytest.Start(t, registrytest.Options{})
	ws, sha := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	keyPair(t, ws)
	other := filepath.Join(ws, "other")
	os.Mkdir(other, 0o755)
	keyPair(t, other)
	layout(t, filepath.Join(ws, "unsigned"), nil)
	layout(t, filepath.Join(ws, "signed"), nil)
	mustSucceed(t, steptest.Run(t, binary, ws, nil, "--image", "oci:unsigned", "--repository", staging.Host+"/unsigned", "--insecure"))
	mustSucceed(t, steptest.Run(t, binary, ws, map[string]string{"GITSHIP_SIGNING_KEY_PASSWORD": "pw"},
		"--image", "oci:signed", "--repository", staging.Host+"/signed", "--insecure", "--signing-key", "cosign.key"))
	for _, tt := range []struct {
		name, from string
		args       []string
		want       []string
	}{
		{"unsigned", "/unsigned", []string{"--require-signature", "key=cosign.pub"},
			[]string{"image is not signed: expected signed by key sha256:", "(cosign.pub); found no signature at " + staging.Host + "/unsigned:sha256-"}},
		{"another key", "/signed", []string{"--require-signature", "key=other/cosign.pub"},
			[]string{"no signature verifies: expected signed by key sha256:", "(other/cosign.pub); found signature 1 of 1: by another key"}},
		{"built from elsewhere", "/signed", []string{"--require-signature", "key=cosign.pub", "--require-provenance", "source=github.com/evil/shop,ref=main"},
			[]string{"provenance does not match: expected SLSA provenance signed by key", "from source github.com/evil/shop ref main; found provenance from source"}},
		{"another branch", "/signed", []string{"--require-signature", "key=cosign.pub", "--require-provenance", "ref=release"},
			[]string{"from source (any) ref release; found provenance from source", "ref refs/heads/main commit " + sha}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dst := prod.Host + "/" + strings.ReplaceAll(tt.name, " ", "-")
			args := append([]string{"--promote-from", staging.Host + tt.from + ":" + sha, "--repository", dst, "--insecure"}, tt.args...)
			res := steptest.Run(t, binary, ws, nil, args...)
			if res.Code != 1 || !strings.Contains(res.Stderr, "refusing to promote "+staging.Host+tt.from+":"+sha) {
				t.Errorf("exit %d, stderr:\n%s", res.Code, res.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.Stderr)
				}
			}
			if d := registrytest.Digest(t, dst+":"+sha); d != "" {
				t.Errorf("the refused image is tagged at %s: %s", dst, d)
			}
		})
	}
}

// A key that does not open, or a registry that refuses the signature:
// the image is pushed and tagged all the same, the output says it is
// unsigned, and the step fails (2 for the key, 1 for the registry).
func TestSigningFails(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	refusing := registrytest.NewProxy(t, reg, registrytest.Faults{Rate: 1, Status: http.StatusForbidden,
		Match: func(r *http.Request) bool { return registrytest.Request(r, "PUT", ".sig") }})
	ws, sha := checkout(t, "")
	keyPair(t, ws)
	digest := layout(t, filepath.Join(ws, "img"), nil)
	os.WriteFile(filepath.Join(ws, "garbage.key"), []byte("not a key\n"), 0o600)
	for _, tt := range []struct {
		name, repo string
		env        map[string]string
		key        string
		code       int
		want       string
	}{
		{"wrong password", reg.Host + "/wrong-password", map[string]string{"GITSHIP_SIGNING_KEY_PASSWORD": "nope"}, "cosign.key", 2,
			"--signing-key cosign.key: wrong or missing key password: ENCRYPTED SIGSTORE PRIVATE KEY"},
		{"no password", reg.Host + "/no-password", nil, "cosign.key", 2,
			"--signing-key cosign.key: wrong or missing key password: the key is a ENCRYPTED SIGSTORE PRIVATE KEY and no password was given (--signing-key-password)"},
		{"missing key", reg.Host + "/missing", nil, "gone.key", 2, "--signing-key: open gone.key: no such file or directory"},
		{"not a key", reg.Host + "/garbage", nil, "garbage.key", 2, "--signing-key garbage.key: unusable signing key: no PEM block in it"},
		{"registry refuses the signature", refusing.Host + "/shop", map[string]string{"GITSHIP_SIGNING_KEY_PASSWORD": "pw"}, "cosign.key", 1,
			"the image is published unsigned: write " + refusing.Host + "/shop:" + strings.Replace(digest.String(), ":", "-", 1) + ".sig: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := steptest.Run(t, binary, ws, tt.env, "--image", "oci:img", "--repository", tt.repo, "--insecure", "--signing-key", tt.key)
			if res.Code != tt.code || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", res.Code, tt.code, tt.want, res.Stderr)
			}
			if !strings.Contains(res.Stdout, "Unsigned "+tt.repo+"@"+digest.String()) {
				t.Errorf("stdout does not say it is unsigned:\n%s", res.Stdout)
			}
			if out := steptest.Outputs(t, ws, "publish"); out["signed"] != "false" || out["digest"] != digest.String() {
				t.Errorf("outputs %v", out)
			}
			if d := registrytest.Digest(t, strings.Replace(tt.repo, refusing.Host, reg.Host, 1)+":"+sha); d != digest.String() {
				t.Errorf("%s is %q, want %s: the image's tags are set unsigned", sha, d, digest)
			}
		})
	}
}

func TestSupplyChainBadInput(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ws, _ := checkout(t, "")
	layout(t, filepath.Join(ws, "img"), nil)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"require-signature without promotion", []string{"--image", "oci:img", "--require-signature", "key=x.pub"}, "use them with --promote-from"},
		{"signing a promotion unverified", []string{"--promote-from", reg.Host + "/a:1", "--signing-key", "k"}, "give --require-signature too"},
		{"tlog upload", []string{"--image", "oci:img", "--signing-key", "k", "--tlog-upload"}, "--tlog-upload: recording key signatures in Rekor is not supported yet"},
		{"keyless without a subject", []string{"--promote-from", reg.Host + "/a:1", "--require-signature", "issuer=https://token.actions.githubusercontent.com"}, "a keyless identity needs issuer= and subject= or subject-regexp="},
		{"keyless without a trusted root", []string{"--promote-from", reg.Host + "/a:1", "--require-signature", "issuer=https://token.actions.githubusercontent.com,subject-regexp=^https://github.com/acme/"}, "needs trusted-root=PATH"},
		{"provenance without signature", []string{"--promote-from", reg.Host + "/a:1", "--require-provenance", "ref=main"}, "--require-provenance needs --require-signature"},
		{"missing public key", []string{"--promote-from", reg.Host + "/a:1", "--require-signature", "key=gone.pub"}, "--require-signature key: open gone.pub"},
		{"key and keyless", []string{"--image", "oci:img", "--signing-key", "k", "--keyless"}, "--keyless or --signing-key: not both"},
		{"keyless promotion unverified", []string{"--promote-from", reg.Host + "/a:1", "--keyless"}, "give --require-signature too"},
		{"sbom kind", []string{"--image", "oci:img", "--sbom", "syft"}, `invalid value "syft" for input sbom: want one of spdx, cyclonedx, none`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := steptest.Run(t, binary, ws, nil, append([]string{"--repository", reg.Host + "/x", "--insecure"}, tt.args...)...)
			if res.Code != 2 || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d (want 2), stderr lacks %q:\n%s", res.Code, tt.want, res.Stderr)
			}
		})
	}
}

// A multi-platform index: the index is signed and carries the provenance;
// each platform's image carries its own SBOM, which cosign verifies, and a
// promotion copies those too.
func TestSignIndex(t *testing.T) {
	staging := registrytest.Start(t, registrytest.Options{})
	prod := registrytest.Start(t, registrytest.Options{})
	ws, sha := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	keyPair(t, ws)
	idx, err := random.Index(1024, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ocilayout.WriteIndex(filepath.Join(ws, "multi"), idx, "")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	mustSucceed(t, steptest.Run(t, binary, ws, map[string]string{"GITSHIP_SIGNING_KEY_PASSWORD": "pw"},
		"--image", "oci:multi", "--repository", staging.Host+"/multi", "--insecure", "--signing-key", "cosign.key"))
	out := steptest.Outputs(t, ws, "publish")
	if n := len(strings.Split(out["attestations"], "\n")); n != 3 {
		t.Errorf("attestations output names %d .att images, want 3 (the index's, one per platform):\n%s", n, out["attestations"])
	}
	mustSucceed(t, steptest.Run(t, binary, ws, nil, "--promote-from", staging.Host+"/multi:"+sha, "--repository", prod.Host+"/multi",
		"--insecure", "--require-signature", "key=cosign.pub"))
	for _, host := range []string{staging.Host, prod.Host} {
		mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", host+"/multi@"+want.String())
		mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", host+"/multi@"+want.String())
		for _, d := range m.Manifests {
			mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "spdxjson", host+"/multi@"+d.Digest.String())
		}
	}
}

// A registry with the OCI referrers API (go-containerregistry's test
// registry: none installed here has one) gets Sigstore bundles as
// referrers and no .sig tag; cosign verifies them, and a promotion to
// Debian's registry carries them along.
func TestSignReferrers(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.WithReferrersSupport(true), ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	prod := registrytest.Start(t, registrytest.Options{})
	ws, sha := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	keyPair(t, ws)
	want := layout(t, filepath.Join(ws, "img"), nil)
	res := steptest.Run(t, binary, ws, map[string]string{"GITSHIP_SIGNING_KEY_PASSWORD": "pw"},
		"--image", "oci:img", "--repository", host+"/shop", "--insecure", "--signing-key", "cosign.key")
	mustSucceed(t, res)
	out := steptest.Outputs(t, ws, "publish")
	if out["signed"] != "true" || !strings.HasPrefix(out["signature"], host+"/shop@sha256:") || strings.HasSuffix(out["signature"], ".sig") {
		t.Errorf("outputs %v: want the signature as a referrer, by digest", out)
	}
	image := host + "/shop@" + want.String()
	mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", image)
	mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "slsaprovenance1", image)
	mustCosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "spdxjson", image)

	mustSucceed(t, steptest.Run(t, binary, ws, nil, "--promote-from", host+"/shop:"+sha, "--repository", prod.Host+"/shop",
		"--insecure", "--require-signature", "key=cosign.pub", "--require-provenance", "source=acme/shop"))
	mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", prod.Host+"/shop@"+want.String())
}

// The example app built by gitship-build (a real Docker engine), published
// with a key: cosign verifies the signature, the SLSA provenance and the
// SPDX SBOM on its digest; the SBOM lists the app's Go module and the
// provenance the base image build resolved.
func TestSignExampleApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example app in a container")
	}
	host := enginetest.Daemon(t)
	goImage, base := enginetest.GoImage(t, host), enginetest.BaseImage(t, host)
	reg := registrytest.Start(t, registrytest.Options{})
	ws, _ := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	if err := os.CopyFS(filepath.Join(ws, "app"), os.DirFS(filepath.Join("..", "..", "examples", "app"))); err != nil {
		t.Fatal(err)
	}
	keyPair(t, ws)
	build := filepath.Join(t.TempDir(), "gitship-build")
	if out, err := exec.Command("go", "build", "-o", build, "../build").CombinedOutput(); err != nil {
		t.Fatalf("build gitship-build: %v\n%s", err, out)
	}
	mustSucceed(t, steptest.Run(t, build, ws, map[string]string{"DOCKER_HOST": host}, "--context", "app", "--build-arg", "GO_IMAGE="+goImage,
		"--build-arg", "RUNTIME_IMAGE="+base, "--output", "oci:.gitship/image"))
	mustSucceed(t, steptest.Run(t, binary, ws, map[string]string{"GITSHIP_SIGNING_KEY_PASSWORD": "pw"},
		"--image", "oci:.gitship/image", "--repository", reg.Host+"/hello", "--insecure", "--signing-key", "cosign.key"))
	image := steptest.Outputs(t, ws, "publish")["image"]
	mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", image)
	for typ, want := range map[string]string{"slsaprovenance1": "gitship-test/busybox", "spdxjson": "example.com/hello"} {
		out, err := cosign(t, ws, "verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", typ, image)
		if err != nil {
			t.Errorf("cosign verify-attestation --type %s: %v\n%s", typ, err, out)
			continue
		}
		if stmt := payloads(t, out); !strings.Contains(stmt, want) {
			t.Errorf("the %s attestation does not name %s:\n%s", typ, want, stmt)
		}
	}
}

// payloads decodes the statements cosign verify-attestation prints, one
// JSON envelope a line.
func payloads(t *testing.T, out string) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(out, "\n") {
		var env struct {
			Payload []byte `json:"payload"`
		}
		if json.Unmarshal([]byte(line), &env) == nil {
			b.Write(env.Payload)
		}
	}
	return b.String()
}

// The key given as the PEM itself, from a CI secret variable, on GitHub:
// the image is signed, and no line of the key reaches the log but in the
// mask commands GitHub reads.
func TestSigningKeyInline(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ws, _ := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	keyPair(t, ws)
	want := layout(t, filepath.Join(ws, "img"), nil)
	pem, err := os.ReadFile(filepath.Join(ws, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(ws, "cosign.key"))
	env := steptest.CIEnv("github", ws, t.TempDir())
	env["INPUT_SIGNING-KEY"] = string(pem)
	env["INPUT_SIGNING-KEY-PASSWORD"] = "pw"
	res := steptest.Run(t, binary, ws, env, "--image", "oci:img", "--repository", reg.Host+"/shop", "--insecure")
	mustSucceed(t, res)
	var log []string
	for _, l := range strings.Split(res.Stdout+res.Stderr, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			log = append(log, l)
		}
	}
	for _, line := range strings.Split(string(pem), "\n") {
		if len(line) > 8 && !strings.HasPrefix(line, "-----") {
			if !strings.Contains(res.Stdout, "::add-mask::"+line) {
				t.Errorf("key line %q is not masked", line)
			}
			if strings.Contains(strings.Join(log, "\n"), line) {
				t.Errorf("key line %q reached the log", line)
			}
		}
	}
	mustCosign(t, ws, "verify", "--key", "cosign.pub", "--insecure-ignore-tlog", reg.Host+"/shop@"+want.String())
}

// A promotion that asks nothing of signatures is not failed by a source
// registry that refuses to show them (403 for the .sig tag): the image is
// promoted and the output says the signatures were not copied. With
// --require-signature the same registry fails the promotion.
func TestPromoteSignaturesHidden(t *testing.T) {
	staging := registrytest.Start(t, registrytest.Options{})
	hiding := registrytest.NewProxy(t, staging, registrytest.Faults{Rate: 1, Status: http.StatusForbidden,
		Match: func(r *http.Request) bool { return registrytest.Request(r, "GET", ".sig") }})
	prod := registrytest.Start(t, registrytest.Options{})
	ws, sha := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	keyPair(t, ws)
	want := layout(t, filepath.Join(ws, "img"), nil)
	mustSucceed(t, steptest.Run(t, binary, ws, map[string]string{"GITSHIP_SIGNING_KEY_PASSWORD": "pw"},
		"--image", "oci:img", "--repository", staging.Host+"/shop", "--insecure", "--signing-key", "cosign.key"))

	res := steptest.Run(t, binary, ws, nil, "--promote-from", hiding.Host+"/shop:"+sha, "--repository", prod.Host+"/shop", "--insecure")
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "Signatures and attestations not copied: read "+hiding.Host+"/shop:sha256-") {
		t.Errorf("stdout does not say the signatures were not copied:\n%s", res.Stdout)
	}
	if got := registrytest.Digest(t, prod.Host+"/shop:"+sha); got != want.String() {
		t.Errorf("promoted %q, want %s", got, want)
	}
	res = steptest.Run(t, binary, ws, nil, "--promote-from", hiding.Host+"/shop:"+sha, "--repository", prod.Host+"/verified", "--insecure",
		"--require-signature", "key=cosign.pub")
	if res.Code == 0 || registrytest.Digest(t, prod.Host+"/verified:"+sha) != "" {
		t.Errorf("--require-signature through a registry hiding the signature: exit %d\n%s", res.Code, res.Stderr)
	}
}

// Keyless, on GitHub Actions, against a Sigstore on loopback
// (internal/sigstoretest: Fulcio, Rekor and the job's OIDC token
// endpoint): the image is signed and attested with a Fulcio certificate for
// the workflow, which cosign verifies keyless; a promotion requiring that
// workflow's identity and the provenance's source passes, and cosign
// verifies the promoted copy. Without the token variables (no
// `id-token: write`) the image is pushed unsigned and the step exits 2.
func TestSignKeyless(t *testing.T) {
	const issuer = "https://token.actions.githubusercontent.com"
	const workflow = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
	ts := sigstoretest.Start(t, map[string]any{"iss": issuer, "sub": "repo:acme/shop:ref:refs/heads/main",
		"job_workflow_ref": "acme/shop/.github/workflows/release.yml@refs/heads/main"})
	staging := registrytest.Start(t, registrytest.Options{})
	prod := registrytest.Start(t, registrytest.Options{})
	ws, sha := steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Remote: origin})
	want := layout(t, filepath.Join(ws, "img"), nil)
	keyless := []string{"--keyless", "--fulcio-url", ts.FulcioURL, "--rekor-url", ts.RekorURL}

	res := steptest.Run(t, binary, ws, nil, append([]string{"--image", "oci:img", "--repository", staging.Host + "/unsigned", "--insecure"}, keyless...)...)
	if res.Code != 2 || !strings.Contains(res.Stderr, "permissions: id-token: write") || !strings.Contains(res.Stdout, "Unsigned "+staging.Host+"/unsigned@"+want.String()) {
		t.Errorf("no token: exit %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}

	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": ts.TokenURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": sigstoretest.RequestToken}
	res = steptest.Run(t, binary, ws, env, append([]string{"--image", "oci:img", "--repository", staging.Host + "/shop", "--insecure"}, keyless...)...)
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "by "+workflow+" (issuer "+issuer+")") {
		t.Errorf("stdout does not name the identity:\n%s", res.Stdout)
	}
	image := staging.Host + "/shop@" + want.String()
	id := []string{"--certificate-identity", workflow, "--certificate-oidc-issuer", issuer, "--insecure-ignore-sct", "--trusted-root", ts.TrustedRoot}
	mustCosign(t, ws, append(append([]string{"verify"}, id...), image)...)
	mustCosign(t, ws, append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, id...), image)...)
	mustCosign(t, ws, append(append([]string{"verify-attestation", "--type", "spdxjson"}, id...), image)...)

	res = steptest.Run(t, binary, ws, nil, "--promote-from", staging.Host+"/shop:"+sha, "--repository", prod.Host+"/shop", "--insecure",
		"--require-signature", "issuer="+issuer+",subject-regexp=^https://github.com/acme/shop/,trusted-root="+ts.TrustedRoot,
		"--require-provenance", "source=github.com/acme/shop,ref=main")
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "Verified "+image+": signed by "+workflow+" (issuer "+issuer+")") {
		t.Errorf("stdout does not say what it verified:\n%s", res.Stdout)
	}
	mustCosign(t, ws, append(append([]string{"verify"}, id...), prod.Host+"/shop@"+want.String())...)
}
