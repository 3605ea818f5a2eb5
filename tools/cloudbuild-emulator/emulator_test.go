package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/elliptic"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/gitship/gitship/internal/buildkittest"
	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/kubetest"
	"github.com/gitship/gitship/internal/registrytest"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

const (
	// The gitship images, as cloudbuild.yaml names them with
	// _GITSHIP_REGISTRY=stepRegistry and _GITSHIP_VERSION=stepVersion.
	stepRegistry = "gitship-emulator"
	stepVersion  = "dev"
	// shellImage stands in for bash, gcr.io/cloud-builders/docker and
	// gcr.io/cloud-builders/gcloud: busybox with this machine's bash and
	// docker CLI and a gcloud script (gcloudStandIn). nonRootImage is the
	// same as uid 1001.
	shellImage   = "gitship-emulator/shell:1"
	nonRootImage = "gitship-emulator/shell-nonroot:1"
	// signingPassword is the signing key's password, Secret Manager's
	// cosign-password.
	signingPassword = "cosign-pa55word-of-the-test"
)

var (
	setupOnce sync.Once
	setupErr  error
	stepNames = []string{"lint", "build", "validate", "publish", "gitops-pr", "verify"}
)

// engine returns a client of the test engine with the step images of
// `make images` (built here by tools/imagegen for this machine's platform,
// into a temporary directory) and the stand-ins loaded, once per run.
func engine(t *testing.T) (*client.Client, string) {
	t.Helper()
	host := enginetest.Daemon(t)
	c, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	base := enginetest.BaseImage(t, host)
	setupOnce.Do(func() { setupErr = setup(c, base) })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return c, host
}

func setup(c *client.Client, base string) (err error) {
	ctx := context.Background()
	// GITSHIP_TEST_IMAGES names a directory of step images make images
	// wrote already (dist/images): then none are built here.
	dir := os.Getenv("GITSHIP_TEST_IMAGES")
	if dir == "" {
		if dir, err = buildImages(); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	for _, s := range stepNames {
		if err := LoadOCI(ctx, c, filepath.Join(dir, "gitship-"+s), stepRegistry+"/gitship-"+s+":"+stepVersion); err != nil {
			return err
		}
	}
	return standIn(ctx, c, base)
}

func buildImages() (string, error) {
	dir, err := os.MkdirTemp("", "cloudbuild-emulator-images-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "run", "./tools/imagegen", "-out", dir, "-version", stepVersion,
		"-platforms", "linux/"+runtime.GOARCH, "-steps", strings.Join(stepNames, ","))
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &setupError{"tools/imagegen", err, out}
	}
	return dir, nil
}

func standIn(ctx context.Context, c *client.Client, base string) error {
	// The stand-in: a container of the busybox base with this machine's
	// bash and docker CLI (and the libraries they load) and the gcloud
	// stand-in script, committed.
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: base, Cmd: []string{"/bin/busybox", "true"}}})
	if err != nil {
		return err
	}
	defer c.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{Force: true})
	files, err := hostBinaries(map[string]string{"bin/bash": "bash", "bin/docker": "docker"}, map[string][]byte{"bin/gcloud": []byte(gcloudStandIn)})
	if err != nil {
		return err
	}
	if _, err := c.CopyToContainer(ctx, created.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: files}); err != nil {
		return fmt.Errorf("copy bash, docker and gcloud into the stand-in: %w", err)
	}
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return err
	}
	wait := c.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-wait.Result:
		if r.StatusCode != 0 {
			return &setupError{"stand-in", nil, []byte("busybox true")}
		}
	case err := <-wait.Error:
		return err
	}
	if _, err := c.ContainerCommit(ctx, created.ID, client.ContainerCommitOptions{Reference: shellImage, Changes: []string{`ENV PATH=/bin`}}); err != nil {
		return err
	}
	if _, err := c.ContainerCommit(ctx, created.ID, client.ContainerCommitOptions{Reference: nonRootImage, Changes: []string{`ENV PATH=/bin`, `USER 1001`}}); err != nil {
		return err
	}
	return nil
}

// gcloudStandIn is the stand-in's /bin/gcloud: an emulation of the two
// gcloud commands cloudbuild/*.yaml run, answering from the environment
// (the emulator's -env, Build.Env), not from Google Cloud. Anything else
// exits 2 naming the command, so that a config calling more of gcloud
// fails here rather than passing unchecked.
const gcloudStandIn = `#!/bin/sh
# gcloud stand-in of tools/cloudbuild-emulator's test: an emulation, not
# the Google Cloud CLI. It answers
#   gcloud auth print-access-token
#     with $CLOUDBUILD_EMULATOR_ACCESS_TOKEN (default emulator-access-token),
#     the token of the build's service account;
#   gcloud container clusters describe NAME ... --format='value(endpoint,masterAuth.clusterCaCertificate)'
#     with $CLOUDBUILD_EMULATOR_GKE_ENDPOINT (HOST:PORT, as GKE's endpoint
#     is an address without a scheme) and $CLOUDBUILD_EMULATOR_GKE_CA
#     (base64 of the PEM CA), tab-separated as gcloud's value() format
#     prints them; for any cluster NAME.
case "$1 $2" in
"auth print-access-token")
	echo "${CLOUDBUILD_EMULATOR_ACCESS_TOKEN:-emulator-access-token}"
	exit 0 ;;
"container clusters")
	[ "$3" = describe ] || { echo "gcloud stand-in: gcloud $* is not emulated" >&2; exit 2; }
	format=
	prev=
	for a in "$@"; do
		case "$a" in --format=*) format=${a#--format=} ;; esac
		[ "$prev" = --format ] && format=$a
		prev=$a
	done
	if [ "$format" != 'value(endpoint,masterAuth.clusterCaCertificate)' ]; then
		echo "gcloud stand-in: --format '$format' is not emulated: only value(endpoint,masterAuth.clusterCaCertificate)" >&2
		exit 2
	fi
	if [ -z "${CLOUDBUILD_EMULATOR_GKE_ENDPOINT:-}" ]; then
		echo "ERROR: (gcloud.container.clusters.describe) gcloud stand-in: no cluster (CLOUDBUILD_EMULATOR_GKE_ENDPOINT is not set)" >&2
		exit 1
	fi
	printf '%s\t%s\n' "$CLOUDBUILD_EMULATOR_GKE_ENDPOINT" "${CLOUDBUILD_EMULATOR_GKE_CA:-}"
	exit 0 ;;
esac
echo "gcloud stand-in: gcloud $* is not emulated" >&2
exit 2
`

// hostBinaries is a tar of this machine's commands (path in the tar →
// command name on PATH) with, for the dynamically linked ones, the
// libraries and loader ldd lists, at their paths; and of extra files,
// all mode 0755.
func hostBinaries(commands map[string]string, extra map[string][]byte) (io.Reader, error) {
	files := map[string]string{}
	for dest, name := range commands {
		bin, err := exec.LookPath(name)
		if err != nil {
			return nil, fmt.Errorf("no %s on this machine for the stand-in: %w", name, err)
		}
		files[dest] = bin
		if f, err := elf.Open(bin); err == nil {
			dynamic := false
			for _, p := range f.Progs {
				dynamic = dynamic || p.Type == elf.PT_INTERP
			}
			f.Close()
			if dynamic {
				out, err := exec.Command("ldd", bin).Output()
				if err != nil {
					return nil, fmt.Errorf("ldd %s: %w", bin, err)
				}
				for _, line := range strings.Split(string(out), "\n") {
					fields := strings.Fields(line)
					for i, f := range fields {
						if strings.HasPrefix(f, "/") && (i == 0 || fields[i-1] == "=>") {
							files[strings.TrimPrefix(f, "/")] = f
							break
						}
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for name, path := range files {
		data, err := os.ReadFile(path) // follows symlinks: the library itself
		if err != nil {
			return nil, err
		}
		if err := write(name, data); err != nil {
			return nil, err
		}
	}
	for name, data := range extra {
		if err := write(name, data); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

type setupError struct {
	what string
	err  error
	out  []byte
}

func (e *setupError) Error() string {
	return e.what + ": " + strings.TrimSpace(string(e.out)) + " " + func() string {
		if e.err != nil {
			return e.err.Error()
		}
		return ""
	}()
}

// standIns map the third-party builder images to the local stand-in.
var standIns = map[string]string{
	"bash":                         shellImage,
	"gcr.io/cloud-builders/docker": shellImage,
	"gcr.io/cloud-builders/gcloud": shellImage,
}

func socketOf(t *testing.T, host string) string {
	s, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		t.Skipf("the engine at %s is not a unix socket to mount", host)
	}
	return s
}

// app is a checkout to build: a Dockerfile whose test stage runs a test
// script and whose image is busybox from the loopback registry, and
// examples/app's chart and values; extra files are added to it.
func app(t *testing.T, base string, extra map[string]string) (dir, sha string) {
	dir = t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "deploy"), os.DirFS(filepath.Join("..", "..", "examples", "app", "deploy"))); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"Dockerfile": "FROM " + base + " AS test\nCOPY hello.sh /app/hello.sh\nCMD [\"sh\", \"/app/hello.sh\", \"test\"]\n\n" +
			"FROM " + base + "\nCOPY hello.sh /app/hello.sh\nUSER 1001\nENTRYPOINT [\"sh\", \"/app/hello.sh\"]\n",
		"hello.sh": "#!/bin/sh\nif [ \"$1\" = test ]; then echo 'ok 1 - hello says hello'; exit 0; fi\necho hello\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	for k, v := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, k)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "app"}} {
		gittest.Git(t, dir, args...)
	}
	return dir, strings.TrimSpace(gittest.Git(t, dir, "rev-parse", "HEAD"))
}

// TestCloudbuildYAML runs the repository's Cloud Build configs through
// the emulator, each step a container with /workspace mounted:
// cloudbuild.yaml on main (lint, lint-outputs, registry-token, build with
// its tests in a container and the BuildKit of a buildkitd container as
// the buildkit step starts one, validate, publish to a loopback registry,
// deploy-dev copying gitops-pr out of its image with docker and committing
// to a GitOps repository in the workspace, kubeconfig-dev writing a
// kubeconfig from what the gcloud stand-in answers for a real API server
// on loopback, verify-dev copying gitship-verify out of its image and
// waiting, as the read-only account of docs/verify-rbac.yaml, until Flux
// (played by the test) has applied deploy-dev's commit and the Deployment
// runs publish's digest, then probing an endpoint that fails twice); the
// same two steps red when the new pods cannot pull the image; then
// deploy-staging.yaml and deploy-production.yaml for the same commit
// (resolve by the commit; the gate, kubeconfig-<previous> and
// verify-<previous>, finding the previous environment's Deployment on the
// digest; gitops-pr pushing the environment's branch), deploy-production
// first refused at its gate while staging still runs an older image, with
// no branch pushed;
// cloudbuild.yaml with a lint error in the checkout, which fails the build
// at lint-outputs before anything is built; and a branch's build, which
// neither deploys nor verifies dev.
func TestCloudbuildYAML(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the step images and runs a whole build")
	}
	c, host := engine(t)
	socket := socketOf(t, host)
	reg := registrytest.Start(t, registrytest.Options{})
	base := buildkittest.BaseImage(t, reg.Host)
	// The buildkit step's buildkitd container: it runs moby/buildkit from
	// Docker Hub, which cannot be pulled here, so the test starts one of a
	// local image under the name the build step's --builder gives.
	ctx := context.Background()
	bk := buildkittest.StartContainer(t, host, buildkittest.WithInsecureRegistry(reg.Host))
	// One left by an interrupted run of this test goes.
	if old, err := c.ContainerInspect(ctx, "buildkitd", client.ContainerInspectOptions{}); err == nil &&
		old.Container.Config != nil && strings.HasPrefix(old.Container.Config.Image, "gitship-test/buildkitd") {
		c.ContainerRemove(ctx, "buildkitd", client.ContainerRemoveOptions{Force: true})
	}
	if _, err := c.ContainerRename(ctx, bk, client.ContainerRenameOptions{NewName: "buildkitd"}); err != nil {
		t.Fatalf("name the buildkitd container buildkitd (is another one left?): %v", err)
	}
	t.Cleanup(func() { c.ContainerRemove(ctx, "buildkitd", client.ContainerRemoveOptions{Force: true}) })

	// The signing key, as cosign generate-key-pair writes it (sigstore's
	// own code: ECDSA P-256, PKCS#8 encrypted with scrypt and secretbox,
	// ENCRYPTED SIGSTORE PRIVATE KEY): Secret Manager's cosign-key and
	// cosign-password hand it to cloudbuild.yaml's publish, and the
	// public key is the checkout's cloudbuild/cosign.pub, which the
	// deploy configs' resolve requires.
	signingKey, publicKey, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte(signingPassword)))
	if err != nil {
		t.Fatal(err)
	}
	keyed := map[string]string{"cloudbuild/cosign.pub": string(publicKey)}

	// run runs config in the workspace ws with the test's substitutions
	// and subs, skipping buildkit and the steps skip names, env added to
	// every step.
	run := func(t *testing.T, config, ws string, subs map[string]string, skip []string, env ...string) (*Result, string) {
		t.Helper()
		cfg, err := LoadConfig(filepath.Join("..", "..", "cloudbuild", config))
		if err != nil {
			t.Fatal(err)
		}
		given := map[string]string{"PROJECT_ID": "acme", "_GITSHIP_REGISTRY": stepRegistry, "_GITSHIP_VERSION": stepVersion,
			"_AR_HOST": reg.Host, "_GITOPS_REPO": "/workspace/gitops.git"}
		for k, v := range subs {
			given[k] = v
		}
		var log bytes.Buffer
		b := &Build{Config: cfg, Workspace: ws, Socket: socket, Images: standIns, Skip: append([]string{"buildkit"}, skip...),
			Secrets: map[string]string{"GITSHIP_TOKEN": "unused", "GITSHIP_SIGNING_KEY": string(signingKey),
				"GITSHIP_SIGNING_KEY_PASSWORD": signingPassword}, Log: &log,
			// The registry is plain HTTP on loopback.
			Env:           append([]string{"GITSHIP_INSECURE=true"}, env...),
			Substitutions: defaults(given)}
		res, err := b.Run(ctx, c)
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		// The key and its password are masked: no line of either
		// reaches the build's log.
		for _, line := range append(strings.Split(string(signingKey), "\n"), signingPassword) {
			if len(line) > 8 && !strings.HasPrefix(line, "-----") && strings.Contains(log.String(), line) {
				t.Errorf("%s's log shows the signing key or its password: %q", config, line)
			}
		}
		return res, log.String()
	}
	status := func(res *Result) map[string]string {
		m := map[string]string{}
		for _, s := range res.Steps {
			m[s.ID] = s.Status
		}
		return m
	}
	// pinned tells whether a file under dir on the GitOps repository's
	// branch pins digest.
	pinned := func(t *testing.T, gitops, branch, dir, digest string) bool {
		for path, content := range gittest.Files(t, gitops, branch) {
			if strings.HasPrefix(path, dir) && strings.Contains(content, "@"+digest) {
				return true
			}
		}
		return false
	}

	t.Run("main, then deploy-staging and deploy-production", func(t *testing.T) {
		ws, sha := app(t, base, keyed)
		gitops := filepath.Join(ws, "gitops.git")
		if err := os.CopyFS(gitops, os.DirFS(gittest.Bare(t, map[string]string{"README.md": "# clusters\n"}, "main"))); err != nil {
			t.Fatal(err)
		}
		// dev: Flux applied the GitOps repository's first commit, the
		// Deployment runs an older image; once deploy-dev commits, Flux
		// (played) applies it and the Deployment rolls out publish's
		// image. The endpoint fails its first 2 probes.
		initial := gittest.Head(t, gitops, "main")
		dev := startDev(t, reg.Host, initial)
		dev.playFlux(t, ws, gitops, initial, nil)
		url, probes := flakyEndpoint(t, 2)
		subs := dev.subs(url)
		subs["COMMIT_SHA"], subs["BRANCH_NAME"] = sha, "main"
		res, log := run(t, "cloudbuild.yaml", ws, subs, nil, dev.env...)
		want := map[string]string{"lint": "SUCCESS", "lint-outputs": "SUCCESS", "buildkit": "SKIPPED", "registry-token": "SUCCESS",
			"build": "SUCCESS", "validate": "SUCCESS", "publish": "SUCCESS", "deploy-dev": "SUCCESS",
			"kubeconfig-dev": "SUCCESS", "verify-dev": "SUCCESS"}
		if got := status(res); res.Status != "SUCCESS" || !equal(got, want) {
			t.Fatalf("build %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		if !strings.Contains(log, "ok 1 - hello says hello") {
			t.Errorf("the log lacks the test's output:\n%s", log)
		}
		var published map[string]string
		data, err := os.ReadFile(filepath.Join(ws, ".gitship", "publish.json"))
		if err != nil || json.Unmarshal(data, &published) != nil {
			t.Fatalf("publish's outputs: %v %s", err, data)
		}
		// The image is in the registry under the commit, by the digest
		// publish reports.
		desc, err := remote.Head(mustRef(t, reg.Host+"/acme/apps/app:"+sha))
		if err != nil {
			t.Fatalf("the image is not in the registry under %s: %v\n%s", sha, err, log)
		}
		digest := desc.Digest.String()
		if digest != published["digest"] || published["image"] != reg.Host+"/acme/apps/app@"+digest {
			t.Errorf("registry has %s; publish's outputs %v", digest, published)
		}
		// publish signed it with the key from Secret Manager: the
		// signature and the attestations are in the registry, cosign's
		// tag scheme next to the image.
		signedBy := published["image"] + " by key sha256:"
		if published["signed"] != "true" || !strings.Contains(log, "Signed "+signedBy) {
			t.Errorf("publish's output signed = %q, want true, and a log saying %q\n%s", published["signed"], "Signed "+signedBy, log)
		}
		for _, suffix := range []string{".sig", ".att"} {
			if _, err := remote.Head(mustRef(t, reg.Host+"/acme/apps/app:"+strings.Replace(digest, ":", "-", 1)+suffix)); err != nil {
				t.Errorf("no %s of the image in the registry: %v", suffix, err)
			}
		}
		// The build's results record the image by digest: publish's
		// $BUILDER_OUTPUT/output, Cloud Build's results.buildStepOutputs.
		for _, s := range res.Steps {
			if s.ID == "publish" && !strings.Contains(s.Output, `"image": "`+published["image"]+`"`) {
				t.Errorf("publish's buildStepOutputs = %q, want its image %s", s.Output, published["image"])
			}
		}
		// deploy-dev copied gitops-pr out of its image with docker and
		// committed dev's manifests, pinned by digest, to main.
		if !pinned(t, gitops, "main", "clusters/dev/", digest) {
			t.Errorf("main of the GitOps repository pins %s in no file under clusters/dev/; files %v\n%s",
				digest, gittest.Files(t, gitops, "main"), log)
		}
		checkVerified(t, ws, gitops, dev.ns, initial, log, url, probes.Load())

		// The same two steps when the new pods cannot pull the image: Flux
		// applied the commit, but verify-dev fails the build with the
		// kubelet's message.
		failing := startDev(t, reg.Host, initial)
		os.Remove(filepath.Join(ws, ".gitship", "bin", "gitship-verify"))
		pullError := `Back-off pulling image "` + published["image"] + `": manifest unknown`
		failing.playFlux(t, ws, gitops, initial, []kubetest.Pod{{Waiting: "ImagePullBackOff", Message: pullError}})
		subs = failing.subs("")
		subs["COMMIT_SHA"], subs["BRANCH_NAME"] = sha, "main"
		res, log = run(t, "cloudbuild.yaml", ws, subs,
			[]string{"lint", "lint-outputs", "registry-token", "build", "validate", "publish", "deploy-dev"}, failing.env...)
		want = map[string]string{"lint": "SKIPPED", "lint-outputs": "SKIPPED", "buildkit": "SKIPPED", "registry-token": "SKIPPED",
			"build": "SKIPPED", "validate": "SKIPPED", "publish": "SKIPPED", "deploy-dev": "SKIPPED",
			"kubeconfig-dev": "SUCCESS", "verify-dev": "FAILURE"}
		if got := status(res); res.Status != "FAILURE" || !equal(got, want) {
			t.Fatalf("build %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		for _, s := range []string{"ImagePullBackOff", pullError, `build step 9 "` + shellImage + `" failed`} {
			if !strings.Contains(log, s) {
				t.Errorf("the log of a failing verify-dev lacks %q:\n%s", s, log)
			}
		}

		// promoted checks what deploy-<env>.yaml left after its gitops-pr:
		// the registry's tag env names the digest, and the branch gitops-pr
		// reports pins it under clusters/<env>/.
		promoted := func(env string) {
			t.Helper()
			if d, err := remote.Head(mustRef(t, reg.Host+"/acme/apps/app:"+env)); err != nil || d.Digest.String() != digest {
				t.Errorf("the tag %s is %v (%v), want %s", env, d, err, digest)
			}
			var branch map[string]string
			data, _ := os.ReadFile(filepath.Join(ws, ".gitship", "gitops-pr.json"))
			json.Unmarshal(data, &branch)
			if branch["branch"] == "" || !pinned(t, gitops, branch["branch"], "clusters/"+env+"/", digest) {
				t.Errorf("gitops-pr's outputs %v: its branch pins %s in no file under clusters/%s/\n%s", branch, digest, env, log)
			}
		}

		// The tag staging on that commit: deploy-staging.yaml finds the
		// image by the commit and tags it staging; its gate (kubeconfig-dev,
		// verify-dev) finds dev running that digest (Flux, played, rolled
		// it out above) and dev's endpoint answering; gitops-pr pushes
		// staging's manifests to a branch (no provider to open the pull
		// request on).
		devURL, devProbes := flakyEndpoint(t, 0)
		subs = dev.subs(devURL)
		subs["COMMIT_SHA"], subs["TAG_NAME"] = sha, "staging"
		res, log = run(t, "deploy-staging.yaml", ws, subs, nil, slices.Concat(dev.env, []string{"GITSHIP_PROVIDER=none"})...)
		want = map[string]string{"resolve": "SUCCESS", "kubeconfig-dev": "SUCCESS", "verify-dev": "SUCCESS", "gitops-pr": "SUCCESS"}
		if got := status(res); res.Status != "SUCCESS" || !equal(got, want) {
			t.Fatalf("deploy-staging %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		promoted("staging")
		// resolve verified the signature with cloudbuild/cosign.pub
		// before it tagged anything.
		if want := "Verified " + published["image"] + ": signed by key sha256:"; !strings.Contains(log, want) {
			t.Errorf("deploy-staging's log lacks %q:\n%s", want, log)
		}
		if n := devProbes.Load(); n != 3 {
			t.Errorf("dev's endpoint answered %d probes, want 3", n)
		}
		checkGate(t, ws, "dev", dev.ns, "staging", digest, devURL, log)

		// The tag production on that commit while staging (its pull
		// request not merged yet) still runs an older image: the gate
		// (kubeconfig-staging, verify-staging) waits _GATE_TIMEOUT for a
		// rollout that does not come and stops the build before gitops-pr:
		// no production branch in the GitOps repository.
		staging := startEnv(t, reg.Host, "staging", initial)
		subs = staging.subs("")
		subs["COMMIT_SHA"], subs["TAG_NAME"], subs["_GATE_TIMEOUT"] = sha, "production", "3s"
		production := slices.Concat(staging.env, []string{"GITSHIP_PROVIDER=none"})
		res, log = run(t, "deploy-production.yaml", ws, subs, nil, production...)
		want = map[string]string{"resolve": "SUCCESS", "kubeconfig-staging": "SUCCESS", "verify-staging": "FAILURE", "gitops-pr": "SKIPPED"}
		if got := status(res); res.Status != "FAILURE" || !equal(got, want) {
			t.Fatalf("deploy-production %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		for _, s := range []string{"staging does not run " + digest + ": not promoting it to production",
			"timed out after 3s waiting for Deployment " + staging.ns + "/app", "its pod template does not run", oldImage(reg.Host),
			`build step 2 "` + shellImage + `" failed`} {
			if !strings.Contains(log, s) {
				t.Errorf("the log of a refused deploy-production lacks %q:\n%s", s, log)
			}
		}
		if branches := gittest.Git(t, gitops, "for-each-ref", "--format=%(refname)", "refs/heads/"); strings.Contains(branches, "production") {
			t.Errorf("deploy-production refused at its gate pushed a branch: %s\n%s", branches, log)
		}

		// Staging's pull request merged, Flux rolled it out (played):
		// production goes on.
		staging.runs(t, published["image"])
		subs["_GATE_TIMEOUT"] = "1m"
		res, log = run(t, "deploy-production.yaml", ws, subs, nil, production...)
		want = map[string]string{"resolve": "SUCCESS", "kubeconfig-staging": "SUCCESS", "verify-staging": "SUCCESS", "gitops-pr": "SUCCESS"}
		if got := status(res); res.Status != "SUCCESS" || !equal(got, want) {
			t.Fatalf("deploy-production %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		promoted("production")
		checkGate(t, ws, "staging", staging.ns, "production", digest, "", log)
	})

	// An image in the registry for the commit, with the commit's label,
	// but not signed (pushed by something other than cloudbuild.yaml's
	// publish): deploy-staging.yaml's resolve refuses it with exit 1,
	// naming the key it expected, and tags nothing; the build stops
	// before the gate and the pull request.
	t.Run("deploy-staging: unsigned image refused", func(t *testing.T) {
		ws, sha := app(t, base, keyed)
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		img, err = mutate.Config(img, v1.Config{Labels: map[string]string{"org.opencontainers.image.revision": sha}})
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(mustRef(t, reg.Host+"/acme/apps/unsigned:"+sha), img); err != nil {
			t.Fatal(err)
		}
		subs := map[string]string{"COMMIT_SHA": sha, "TAG_NAME": "staging", "_IMAGE_NAME": "unsigned"}
		res, log := run(t, "deploy-staging.yaml", ws, subs, nil, "GITSHIP_PROVIDER=none")
		want := map[string]string{"resolve": "FAILURE", "kubeconfig-dev": "SKIPPED", "verify-dev": "SKIPPED", "gitops-pr": "SKIPPED"}
		if got := status(res); res.Status != "FAILURE" || !equal(got, want) {
			t.Fatalf("deploy-staging %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		if code := res.Steps[res.Failed].ExitCode; code != 1 {
			t.Errorf("resolve exited %d, want 1 (the check failed)", code)
		}
		for _, s := range []string{"refusing to promote " + reg.Host + "/acme/apps/unsigned:" + sha, "expected signed by key sha256:", "cloudbuild/cosign.pub"} {
			if !strings.Contains(log, s) {
				t.Errorf("the log of the refused resolve lacks %q:\n%s", s, log)
			}
		}
		if _, err := remote.Head(mustRef(t, reg.Host+"/acme/apps/unsigned:staging")); err == nil {
			t.Errorf("the refused image was tagged staging")
		}
	})

	t.Run("lint error", func(t *testing.T) {
		ws, sha := app(t, base, map[string]string{"config.yaml": "a: 1\na: 2\n"})
		res, log := run(t, "cloudbuild.yaml", ws, map[string]string{"COMMIT_SHA": sha, "BRANCH_NAME": "main"}, nil)
		want := map[string]string{"lint": "SUCCESS", "lint-outputs": "FAILURE", "buildkit": "SKIPPED", "registry-token": "SKIPPED",
			"build": "SKIPPED", "validate": "SKIPPED", "publish": "SKIPPED", "deploy-dev": "SKIPPED",
			"kubeconfig-dev": "SKIPPED", "verify-dev": "SKIPPED"}
		if got := status(res); res.Status != "FAILURE" || !equal(got, want) {
			t.Fatalf("build %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		if !strings.Contains(log, "config.yaml") || !strings.Contains(log, `build step 1 "`+shellImage+`" failed`) {
			t.Errorf("the log names neither the file nor the failed step:\n%s", log)
		}
		if _, err := remote.Head(mustRef(t, reg.Host+"/acme/apps/app:"+sha)); err == nil {
			t.Errorf("a build red at lint published %s", sha)
		}
	})

	// gitops-pr's outputs with no merge-commit (it opened a pull request
	// and did not wait for the merge): there is no GitOps commit to wait
	// for, and verify-dev says so, rather than leaving gitship-verify to
	// complain of a --revision the config's user never wrote.
	t.Run("no merge-commit: verify-dev fails", func(t *testing.T) {
		ws, sha := app(t, base, nil)
		older := strings.Repeat("1", 40)
		dev := startDev(t, reg.Host, older)
		outputs := map[string]string{
			"publish.json":   `{"image": "` + oldImage(reg.Host) + `"}`,
			"gitops-pr.json": `{"changed": "true", "commit": "` + strings.Repeat("2", 40) + `", "branch": "gitship/dev", "merge-commit": ""}`,
		}
		if err := os.MkdirAll(filepath.Join(ws, ".gitship"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range outputs {
			if err := os.WriteFile(filepath.Join(ws, ".gitship", name), []byte(content+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		subs := dev.subs("")
		subs["COMMIT_SHA"], subs["BRANCH_NAME"] = sha, "main"
		res, log := run(t, "cloudbuild.yaml", ws, subs,
			[]string{"lint", "lint-outputs", "registry-token", "build", "validate", "publish", "deploy-dev"}, dev.env...)
		if got := status(res); res.Status != "FAILURE" || got["verify-dev"] != "FAILURE" {
			t.Fatalf("build %s, steps %v, want verify-dev FAILURE\n%s", res.Status, got, log)
		}
		if want := "no merge-commit in /workspace/.gitship/gitops-pr.json"; !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	})

	// The gate of deploy-staging.yaml when dev's API server does not
	// answer: gitship-verify cannot check (exit 2, naming the server),
	// and verify-dev says so and stops the build with that exit code
	// before gitops-pr (resolve is skipped: publish.json is written here).
	t.Run("deploy-staging: dev unreachable", func(t *testing.T) {
		ws, sha := app(t, base, nil)
		image := reg.Host + "/acme/apps/app@sha256:" + strings.Repeat("a", 64)
		if err := os.MkdirAll(filepath.Join(ws, ".gitship"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, ".gitship", "publish.json"), []byte("{\n  \"image\": \""+image+"\"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// publish.json as gitship writes it, one output a line. A loopback
		// port nothing listens on.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		endpoint := l.Addr().String()
		l.Close()
		subs := map[string]string{"COMMIT_SHA": sha, "TAG_NAME": "staging", "_DEV_WORKLOAD": "app/Deployment/app", "_GATE_TIMEOUT": "1m"}
		res, log := run(t, "deploy-staging.yaml", ws, subs, []string{"resolve"},
			"CLOUDBUILD_EMULATOR_GKE_ENDPOINT="+endpoint, "CLOUDBUILD_EMULATOR_GKE_CA=", "GITSHIP_PROVIDER=none")
		want := map[string]string{"resolve": "SKIPPED", "kubeconfig-dev": "SUCCESS", "verify-dev": "FAILURE", "gitops-pr": "SKIPPED"}
		if got := status(res); res.Status != "FAILURE" || !equal(got, want) {
			t.Fatalf("build %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		if code := res.Steps[res.Failed].ExitCode; code != 2 {
			t.Errorf("verify-dev exited %d, want 2 (verify could not check)", code)
		}
		for _, s := range []string{endpoint, "could not check that dev runs sha256:" + strings.Repeat("a", 64) + " (gitship-verify exit 2): not promoting it to staging"} {
			if !strings.Contains(log, s) {
				t.Errorf("the log lacks %q:\n%s", s, log)
			}
		}
	})

	// A build of another branch deploys nothing: deploy-dev, then
	// kubeconfig-dev and verify-dev each say so and succeed, with no
	// cluster to ask (the steps before them are skipped here: the first
	// subtest runs them).
	t.Run("a branch: dev is neither deployed nor verified", func(t *testing.T) {
		ws, sha := app(t, base, nil)
		res, log := run(t, "cloudbuild.yaml", ws, map[string]string{"COMMIT_SHA": sha, "BRANCH_NAME": "feature"},
			[]string{"lint", "lint-outputs", "registry-token", "build", "validate", "publish"})
		want := map[string]string{"lint": "SKIPPED", "lint-outputs": "SKIPPED", "buildkit": "SKIPPED", "registry-token": "SKIPPED",
			"build": "SKIPPED", "validate": "SKIPPED", "publish": "SKIPPED", "deploy-dev": "SUCCESS",
			"kubeconfig-dev": "SUCCESS", "verify-dev": "SUCCESS"}
		if got := status(res); res.Status != "SUCCESS" || !equal(got, want) {
			t.Fatalf("build %s, steps %v, want %v\n%s", res.Status, got, want, log)
		}
		for _, s := range []string{"not a push to main: dev is not deployed", "dev was not deployed: no kubeconfig",
			"dev was not deployed: nothing to verify"} {
			if !strings.Contains(log, s) {
				t.Errorf("the log lacks %q:\n%s", s, log)
			}
		}
		if _, err := os.Stat(filepath.Join(ws, ".gitship", "kubeconfig-dev")); err == nil {
			t.Errorf("kubeconfig-dev wrote a kubeconfig for a build that deployed nothing")
		}
	})
}

// checkVerified checks what verify-dev left after a build on main: its
// outputs name the commit deploy-dev made on the GitOps repository's main
// (gitops-pr's merge-commit), the summary names the Kustomization, the
// Deployment in ns and the probes of url (2 wrong answers, then the 3
// right ones in a row), the log shows verify waiting past dev's state
// before the build (Flux at the commit old), and the kubeconfig holding
// the token is readable by root only.
func checkVerified(t *testing.T, ws, gitops, ns, old, log, url string, probes int32) {
	t.Helper()
	read := func(name string) map[string]string {
		var m map[string]string
		data, err := os.ReadFile(filepath.Join(ws, ".gitship", name))
		if err != nil || json.Unmarshal(data, &m) != nil {
			t.Fatalf("%s: %v %s\n%s", name, err, data, log)
		}
		return m
	}
	deployed, verified := read("gitops-pr.json"), read("verify.json")
	head := gittest.Head(t, gitops, "main")
	if deployed["merge-commit"] != head || verified["revision"] != head {
		t.Errorf("GitOps main at %s; gitops-pr's merge-commit %q, verify's revision %q", head, deployed["merge-commit"], verified["revision"])
	}
	for _, k := range []string{"ready-at", "duration", "probe-latency-p50"} {
		if verified[k] == "" {
			t.Errorf("verify's outputs lack %s: %v", k, verified)
		}
	}
	if probes != 5 {
		t.Errorf("the endpoint answered %d probes, want 5 (2 wrong, 3 right)", probes)
	}
	summary, err := os.ReadFile(filepath.Join(ws, ".gitship", "verify-summary.md"))
	if err != nil {
		t.Fatalf("verify's summary: %v\n%s", err, log)
	}
	for _, s := range []string{"`" + head + "`", "| Kustomization " + ns + "/dev | Ready at main@sha1:" + head,
		"| Deployment " + ns + "/app | rolled out", "| " + url + " | ok | 5 | 2 |"} {
		if !strings.Contains(string(summary), s) {
			t.Errorf("verify's summary lacks %q:\n%s", s, summary)
		}
	}
	// Progress: Flux's state before the build does not count.
	if stale := "/dev: Ready=True (ReconciliationSucceeded): Applied revision: main@sha1:" + old + "; applied main@sha1:" + old + ", not " + head[:12]; !strings.Contains(log, stale) {
		t.Errorf("verify-dev's log lacks %q:\n%s", stale, log)
	}
	if fi, err := os.Stat(filepath.Join(ws, ".gitship", "kubeconfig-dev")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig-dev: %v, mode %v, want 0600", err, fi)
	}
}

// checkGate checks what the gate of deploy-<next>.yaml left when it let
// the image go on: verify's summary has env's Deployment in ns rolled out
// running digest, and the probes of url (3 right answers) when url is
// set; the log says the image goes on to next.
func checkGate(t *testing.T, ws, env, ns, next, digest, url, log string) {
	t.Helper()
	summary, err := os.ReadFile(filepath.Join(ws, ".gitship", "verify-summary.md"))
	if err != nil {
		t.Fatalf("verify's summary: %v\n%s", err, log)
	}
	want := []string{"| Deployment " + ns + "/app | rolled out, 1 of 1 replicas available, running " + digest[7:19]}
	if url != "" {
		want = append(want, "| "+url+" | ok | 3 | 0 |")
	}
	for _, s := range want {
		if !strings.Contains(string(summary), s) {
			t.Errorf("the summary of verify-%s lacks %q:\n%s", env, s, summary)
		}
	}
	if s := env + " runs " + digest + ": promoting it to " + next; !strings.Contains(log, s) {
		t.Errorf("the log of deploy-%s lacks %q:\n%s", next, s, log)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestLaterStepReadsOutputsAsAnotherUser: a step that runs as uid 1001
// reads the outputs gitship-lint (root in its container) wrote to
// /workspace/.gitship, and every substitution reaches it as an
// environment variable (automapSubstitutions): the built-ins given, the
// derived SHORT_SHA and the config's user substitutions.
func TestLaterStepReadsOutputsAsAnotherUser(t *testing.T) {
	c, host := engine(t)
	ws := t.TempDir()
	os.Chmod(ws, 0o777)
	os.WriteFile(filepath.Join(ws, "values.yaml"), []byte("a: 1\n"), 0o644)
	cfgPath := filepath.Join(t.TempDir(), "cloudbuild.yaml")
	os.WriteFile(cfgPath, []byte(`substitutions:
  _CHART: deploy/chart
steps:
  - id: lint
    name: '`+stepRegistry+`/gitship-lint:`+stepVersion+`'
    args: ['--path', '.']
  - id: read
    name: '`+nonRootImage+`'
    entrypoint: sh
    args: ['-c', 'echo "uid $$(id -u): $$BUILD_ID $$PROJECT_ID $$SHORT_SHA $$_CHART"; cat /workspace/.gitship/lint.json']
options:
  automapSubstitutions: true
`), 0o644)
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	b := &Build{Config: cfg, Workspace: ws, Socket: socketOf(t, host), Log: &log,
		Substitutions: map[string]string{"BUILD_ID": "b-1", "PROJECT_ID": "acme", "COMMIT_SHA": "0123456789abcdef"}}
	res, err := b.Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "SUCCESS" {
		t.Fatalf("build %s:\n%s", res.Status, log.String())
	}
	for _, want := range []string{`"read": uid 1001: b-1 acme 0123456 deploy/chart`, `"findings": "0"`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log.String())
		}
	}
}
