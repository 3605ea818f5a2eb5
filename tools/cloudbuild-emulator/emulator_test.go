package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/buildkittest"
	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/registrytest"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

const (
	// The gitship images, as cloudbuild.yaml names them with
	// _GITSHIP_REGISTRY=stepRegistry and _GITSHIP_VERSION=stepVersion.
	stepRegistry = "gitship-emulator"
	stepVersion  = "dev"
	// shellImage stands in for bash, gcr.io/cloud-builders/docker and
	// gcr.io/cloud-builders/gcloud: busybox with a bash that runs its sh and a
	// gcloud that prints a token. nonRootImage is the same as uid 1001.
	shellImage   = "gitship-emulator/shell:1"
	nonRootImage = "gitship-emulator/shell-nonroot:1"
)

var (
	setupOnce sync.Once
	setupErr  error
	stepNames = []string{"lint", "build", "validate", "publish", "gitops-pr"}
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
	// The stand-in: a container of the busybox base that adds bash (busybox's
	// sh: it has no bash applet) and gcloud, committed.
	script := `printf '#!/bin/sh\nexec /bin/busybox sh "$@"\n' > /bin/bash && printf '#!/bin/sh\necho emulator-access-token\n' > /bin/gcloud && chmod 755 /bin/bash /bin/gcloud`
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: base, Cmd: []string{"/bin/busybox", "sh", "-c", script}}})
	if err != nil {
		return err
	}
	defer c.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{Force: true})
	// The docker CLI of this machine, with the shared libraries it loads,
	// for the steps that run docker in gcr.io/cloud-builders/docker.
	cli, err := dockerCLI()
	if err != nil {
		return err
	}
	if _, err := c.CopyToContainer(ctx, created.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: cli}); err != nil {
		return fmt.Errorf("copy the docker CLI into the stand-in: %w", err)
	}
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return err
	}
	wait := c.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-wait.Result:
		if r.StatusCode != 0 {
			return &setupError{"stand-in", nil, []byte(script)}
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

// dockerCLI is a tar of the docker CLI at /bin/docker and, when it is
// dynamically linked, the libraries and loader ldd lists, at their paths.
func dockerCLI() (io.Reader, error) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		return nil, fmt.Errorf("no docker CLI for the gcr.io/cloud-builders/docker stand-in: %w", err)
	}
	files := map[string]string{"bin/docker": bin}
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
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, path := range files {
		data, err := os.ReadFile(path) // follows symlinks: the library itself
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
			return nil, err
		}
		tw.Write(data)
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
// to a GitOps repository in the workspace), then deploy-staging.yaml and
// deploy-production.yaml for the same commit (resolve by the commit,
// gitops-pr pushing the environment's branch); and cloudbuild.yaml with a lint error in the checkout, which
// fails the build at lint-outputs before anything is built.
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

	run := func(t *testing.T, config, ws string, subs map[string]string, env ...string) (*Result, string) {
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
		b := &Build{Config: cfg, Workspace: ws, Socket: socket, Images: standIns, Skip: []string{"buildkit"},
			Secrets: map[string]string{"GITSHIP_TOKEN": "unused"}, Log: &log,
			// The registry is plain HTTP on loopback.
			Env:           append([]string{"GITSHIP_INSECURE=true"}, env...),
			Substitutions: defaults(given)}
		res, err := b.Run(ctx, c)
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
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
		ws, sha := app(t, base, nil)
		gitops := filepath.Join(ws, "gitops.git")
		if err := os.CopyFS(gitops, os.DirFS(gittest.Bare(t, map[string]string{"README.md": "# clusters\n"}, "main"))); err != nil {
			t.Fatal(err)
		}
		res, log := run(t, "cloudbuild.yaml", ws, map[string]string{"COMMIT_SHA": sha, "BRANCH_NAME": "main"})
		want := map[string]string{"lint": "SUCCESS", "lint-outputs": "SUCCESS", "buildkit": "SKIPPED", "registry-token": "SUCCESS",
			"build": "SUCCESS", "validate": "SUCCESS", "publish": "SUCCESS", "deploy-dev": "SUCCESS"}
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

		// The tag staging, then production, on that commit:
		// deploy-<env>.yaml finds the image by the commit, tags it with the
		// environment, and pushes the environment's manifests to a branch
		// (no provider to open the pull request on).
		for _, env := range []string{"staging", "production"} {
			res, log = run(t, "deploy-"+env+".yaml", ws, map[string]string{"COMMIT_SHA": sha, "TAG_NAME": env}, "GITSHIP_PROVIDER=none")
			want = map[string]string{"resolve": "SUCCESS", "gitops-pr": "SUCCESS"}
			if got := status(res); res.Status != "SUCCESS" || !equal(got, want) {
				t.Fatalf("deploy-%s %s, steps %v, want %v\n%s", env, res.Status, got, want, log)
			}
			if d, err := remote.Head(mustRef(t, reg.Host+"/acme/apps/app:"+env)); err != nil || d.Digest.String() != digest {
				t.Errorf("the tag %s is %v (%v), want %s", env, d, err, digest)
			}
			var branch map[string]string
			data, _ = os.ReadFile(filepath.Join(ws, ".gitship", "gitops-pr.json"))
			json.Unmarshal(data, &branch)
			if branch["branch"] == "" || !pinned(t, gitops, branch["branch"], "clusters/"+env+"/", digest) {
				t.Errorf("gitops-pr's outputs %v: its branch pins %s in no file under clusters/%s/\n%s", branch, digest, env, log)
			}
		}
	})

	t.Run("lint error", func(t *testing.T) {
		ws, sha := app(t, base, map[string]string{"config.yaml": "a: 1\na: 2\n"})
		res, log := run(t, "cloudbuild.yaml", ws, map[string]string{"COMMIT_SHA": sha, "BRANCH_NAME": "main"})
		want := map[string]string{"lint": "SUCCESS", "lint-outputs": "FAILURE", "buildkit": "SKIPPED", "registry-token": "SKIPPED",
			"build": "SKIPPED", "validate": "SKIPPED", "publish": "SKIPPED", "deploy-dev": "SKIPPED"}
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
