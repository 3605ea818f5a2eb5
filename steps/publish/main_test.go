package main

// End-to-end tests of the built gitship-publish binary against real
// registries: Debian's docker-registry on loopback, with and without
// htpasswd auth and TLS. The example app's image comes from gitship-build
// and a real Docker engine when there is one.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/steptest"
	"github.com/gitship/gitship/shared/ocilayout"
)

var binary string

func TestMain(m *testing.M) { steptest.Main(m, "gitship-publish", &binary) }

// checkout makes a git repository with one commit on main and, when tag
// is set, that tag; it returns the directory and the commit SHA.
func checkout(t *testing.T, tag string) (string, string) {
	t.Helper()
	return steptest.Checkout(t, steptest.Repo{Files: map[string]string{"README.md": "app\n"}, Tag: tag})
}

// layout writes a random image with labels as an OCI layout in dir.
func layout(t *testing.T, dir string, labels map[string]string) v1.Hash {
	t.Helper()
	img, err := random.Image(32<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf.Config.Labels = labels
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	d, err := ocilayout.Write(dir, img, "")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustSucceed(t *testing.T, res steptest.Result) {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
}

// The example app built by gitship-build into an OCI layout, pushed for a
// release tag: every tag serves the layout's digest, and the image pulled
// back is the one built.
func TestPushExampleApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example app in a container")
	}
	host := enginetest.Daemon(t)
	goImage, base := enginetest.GoImage(t, host), enginetest.BaseImage(t, host)
	reg := registrytest.Start(t, registrytest.Options{})
	ws, sha := checkout(t, "v1.2.3")
	if err := os.CopyFS(filepath.Join(ws, "app"), os.DirFS(filepath.Join("..", "..", "examples", "app"))); err != nil {
		t.Fatal(err)
	}
	build := filepath.Join(t.TempDir(), "gitship-build")
	if out, err := exec.Command("go", "build", "-o", build, "../build").CombinedOutput(); err != nil {
		t.Fatalf("build gitship-build: %v\n%s", err, out)
	}
	env := map[string]string{"DOCKER_HOST": host}
	mustSucceed(t, steptest.Run(t, build, ws, env, "--context", "app", "--build-arg", "GO_IMAGE="+goImage,
		"--build-arg", "RUNTIME_IMAGE="+base, "--output", "oci:.gitship/image"))
	var built map[string]string
	data, _ := os.ReadFile(filepath.Join(ws, ".gitship", "build.json"))
	json.Unmarshal(data, &built)

	res := steptest.Run(t, binary, ws, nil, "--image", "oci:.gitship/image", "--repository", reg.Host+"/acme/shop",
		"--insecure", "--latest", "--tag", "stable")
	mustSucceed(t, res)
	out := steptest.Outputs(t, ws, "publish")
	if out["digest"] != built["digest"] || out["image"] != reg.Host+"/acme/shop@"+built["digest"] {
		t.Errorf("outputs %v, built %v", out, built)
	}
	wantTags := []string{sha, sha[:7], "main", "1.2.3", "1.2", "1", "latest", "stable"}
	var refs []string
	for _, tag := range wantTags {
		refs = append(refs, reg.Host+"/acme/shop:"+tag)
	}
	if out["tags"] != strings.Join(refs, "\n") {
		t.Errorf("tags output:\n%s\nwant:\n%s", out["tags"], strings.Join(refs, "\n"))
	}
	for _, ref := range refs {
		if got := registrytest.Digest(t, ref); got != built["digest"] {
			t.Errorf("%s serves %q, want %s", ref, got, built["digest"])
		}
	}
	r, _ := name.ParseReference(out["image"], name.Insecure)
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := img.ConfigName(); cfg.String() != built["image-id"] {
		t.Errorf("pulled config %s, built image %s", cfg, built["image-id"])
	}
	if cf, _ := img.ConfigFile(); cf.Config.Labels["org.opencontainers.image.revision"] != sha {
		t.Errorf("pulled labels %v", cf.Config.Labels)
	}
}

// A commit's tag already names another image: refused, nothing moves;
// --overwrite moves it, and the branch tag with it.
func TestImmutableTag(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ws, sha := checkout(t, "")
	first := layout(t, filepath.Join(ws, "first"), nil)
	second := layout(t, filepath.Join(ws, "second"), nil)
	repo := reg.Host + "/shop"
	mustSucceed(t, steptest.Run(t, binary, ws, nil, "--image", "oci:first", "--repository", repo, "--insecure"))

	res := steptest.Run(t, binary, ws, nil, "--image", "oci:second", "--repository", repo, "--insecure")
	if res.Code != 1 || !strings.Contains(res.Stderr, "refusing to move "+sha+" is "+first.String()) ||
		!strings.Contains(res.Stderr, "--overwrite") {
		t.Errorf("exit %d, stderr:\n%s", res.Code, res.Stderr)
	}
	for _, tag := range []string{sha, sha[:7], "main"} {
		if got := registrytest.Digest(t, repo+":"+tag); got != first.String() {
			t.Errorf("after the refusal %s is %s, want %s", tag, got, first)
		}
	}

	res = steptest.Run(t, binary, ws, nil, "--image", "oci:second", "--repository", repo, "--insecure", "--overwrite")
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "Moved "+repo+":"+sha) {
		t.Errorf("stdout does not say what moved:\n%s", res.Stdout)
	}
	for _, tag := range []string{sha, "main"} {
		if got := registrytest.Digest(t, repo+":"+tag); got != second.String() {
			t.Errorf("with --overwrite %s is %s, want %s", tag, got, second)
		}
	}
}

// Promotion to a second registry, checked against the commit's label: the
// copy has the source's digest; an image of another commit is refused.
func TestPromote(t *testing.T) {
	staging := registrytest.Start(t, registrytest.Options{})
	prod := registrytest.Start(t, registrytest.Options{})
	ws, sha := checkout(t, "")
	want := layout(t, filepath.Join(ws, "img"), map[string]string{"org.opencontainers.image.revision": sha})
	mustSucceed(t, steptest.Run(t, binary, ws, nil, "--image", "oci:img", "--repository", staging.Host+"/shop", "--insecure"))

	src := staging.Host + "/shop:" + sha
	res := steptest.Run(t, binary, ws, nil, "--promote-from", src, "--repository", prod.Host+"/shop", "--insecure",
		"--require-label", "org.opencontainers.image.revision="+sha)
	mustSucceed(t, res)
	if out := steptest.Outputs(t, ws, "publish"); out["digest"] != want.String() || registrytest.Digest(t, prod.Host+"/shop:"+sha) != want.String() {
		t.Errorf("promoted %v, want %s", out, want)
	}

	res = steptest.Run(t, binary, ws, nil, "--promote-from", src, "--repository", prod.Host+"/other", "--insecure",
		"--require-label", "org.opencontainers.image.revision=fedcba")
	if res.Code != 1 || !strings.Contains(res.Stderr, "refusing to promote") {
		t.Errorf("label mismatch: exit %d\n%s", res.Code, res.Stderr)
	}
	if registrytest.Digest(t, prod.Host+"/other:"+sha) != "" {
		t.Error("the refused image was tagged")
	}
}

// A wrong password: exit 1 naming the registry and where the credentials
// came from; the password is nowhere but in GitHub's mask command.
func TestWrongPassword(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{Username: "ci", Password: "right-pass", TLS: true})
	ws, _ := checkout(t, "")
	layout(t, filepath.Join(ws, "img"), nil)
	const secret = "Wr0ng-Passw0rd-42"
	tmp := t.TempDir()
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_OUTPUT": filepath.Join(tmp, "out"),
		"GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary"), "INPUT_PASSWORD": secret, "INPUT_USERNAME": "ci",
		"DOCKER_CONFIG": tmp}
	res := steptest.Run(t, binary, ws, env, "--image", "oci:img", "--repository", reg.Host+"/shop", "--ca-file", reg.CAFile)
	if res.Code != 1 || !strings.Contains(res.Stderr, "registry "+reg.Host+" refused the credentials from --username/--password (401 Unauthorized)") {
		t.Errorf("exit %d, stderr:\n%s", res.Code, res.Stderr)
	}
	out := strings.ReplaceAll(res.Stdout, "::add-mask::"+secret+"\n", "")
	outputs, _ := os.ReadFile(filepath.Join(tmp, "out"))
	if strings.Contains(out+res.Stderr+string(outputs), secret) {
		t.Errorf("the password leaked:\nstdout:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
	}

	env["INPUT_PASSWORD"] = "right-pass"
	mustSucceed(t, steptest.Run(t, binary, ws, env, "--image", "oci:img", "--repository", reg.Host+"/shop", "--ca-file", reg.CAFile))
}

func TestBadInput(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	ws, _ := checkout(t, "")
	layout(t, filepath.Join(ws, "img"), nil)
	writeFile(t, filepath.Join(ws, "empty.tar"), "")
	writeFile(t, filepath.Join(ws, "other.tar"), tarOf(t, map[string]string{"hello.txt": "not an image\n"}))
	writeFile(t, filepath.Join(ws, "notlayout", "index.json"), "{not json")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no repository", []string{"--image", "oci:img"}, 2, "--repository is required"},
		{"nothing to publish", []string{"--repository", reg.Host + "/x"}, 2, "give either --image"},
		{"both", []string{"--repository", reg.Host + "/x", "--image", "oci:img", "--promote-from", reg.Host + "/y:1"}, 2, "give either --image"},
		{"no layout", []string{"--repository", reg.Host + "/x", "--image", "oci:missing", "--insecure"}, 2, "--image oci layout missing"},
		{"unknown kind", []string{"--repository", reg.Host + "/x", "--image", "registry:x", "--insecure"}, 2, `--image "registry:x": unknown kind "registry"`},
		{"no kind", []string{"--repository", reg.Host + "/x", "--image", "img", "--insecure"}, 2, `--image "img": want oci:DIR, tarball:FILE or docker:REF`},
		{"tarball not a tar", []string{"--repository", reg.Host + "/x", "--image", "tarball:README.md", "--insecure"}, 2, "--image tarball README.md is not a tarball of docker save"},
		{"tarball empty", []string{"--repository", reg.Host + "/x", "--image", "tarball:empty.tar", "--insecure"}, 2, "--image tarball empty.tar is not a tarball of docker save"},
		{"tarball without manifest.json", []string{"--repository", reg.Host + "/x", "--image", "tarball:other.tar", "--insecure"}, 2, "--image tarball other.tar is not a tarball of docker save"},
		{"tarball a directory", []string{"--repository", reg.Host + "/x", "--image", "tarball:img", "--insecure"}, 2, "--image tarball img is a directory"},
		{"tarball missing", []string{"--repository", reg.Host + "/x", "--image", "tarball:gone.tar", "--insecure"}, 2, "--image tarball gone.tar: "},
		{"layout not a layout", []string{"--repository", reg.Host + "/x", "--image", "oci:notlayout", "--insecure"}, 2, "--image oci layout notlayout"},
		{"plain HTTP", []string{"--repository", reg.Host + "/x", "--image", "oci:img"}, 2, "plain HTTP is not allowed without --insecure"},
		{"bad tag", []string{"--repository", reg.Host + "/x", "--image", "oci:img", "--tag", "a b"}, 2, `--tag "a b"`},
		{"label without promotion", []string{"--repository", reg.Host + "/x", "--image", "oci:img", "--require-label", "a=b"}, 2, "use it with --promote-from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := steptest.Run(t, binary, ws, nil, tt.args...)
			if res.Code != tt.code || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", res.Code, tt.code, tt.want, res.Stderr)
			}
		})
	}
}
