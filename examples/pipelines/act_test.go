package pipelines_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/acttest"
	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/steptest"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

const (
	registryUser     = "act-actor"
	registryPassword = "registry-pa55word"
	gitopsToken      = "gitops-T0ken-s3cret"
)

// stepImages are built and loaded into the engine once for all the act
// tests; the registry they come through lives as long as the first test
// that asked.
var stepImages struct {
	once sync.Once
	ok   bool
}

// loadStepImages builds the step images (tools/imagegen, as make images
// does), pushes them to a loopback registry and has the engine pull
// them from there under the names gitship's actions give them (images,
// from acttest.Actions).
func loadStepImages(t *testing.T, host string, images map[string]string) {
	t.Helper()
	stepImages.once.Do(func() {
		var steps []string
		for s := range images {
			steps = append(steps, s)
		}
		dir := acttest.StepImages(t, steps)
		reg := registrytest.Start(t, registrytest.Options{})
		acttest.LoadImages(t, host, reg.Host, dir, images)
		stepImages.ok = true
	})
	if !stepImages.ok {
		t.Fatal("the step images could not be loaded (see the first act test)")
	}
}

// actRun is one run of a workflow under act on a checkout of
// examples/app (with files changed), publishing to a loopback registry
// with auth and deploying to a GitOps repository served on loopback.
type actRun struct {
	acttest.Result
	sha      string // the app commit the workflow ran on
	registry string // host:port of the app's registry
	gitops   string // the GitOps repository on disk
}

// actSetup is what a run starts from.
type actSetup struct {
	// workflow is the file under testdata to run, on push.
	workflow string
	// files change the checkout of examples/app.
	files map[string]string
	// vars are more workflow vars, besides REGISTRY, GITOPS_REPO,
	// GO_IMAGE and RUNTIME_IMAGE.
	vars map[string]string
	// prepare, when set, changes the checkout's directory (after the
	// commit) before act runs in it.
	prepare func(t *testing.T, dir string)
}

func runWorkflow(t *testing.T, s actSetup) actRun {
	t.Helper()
	host := enginetest.Daemon(t)
	bin := acttest.Binary(t)
	jobImage := acttest.JobImage(t, host)
	goImage := enginetest.GoImage(t, host)
	actions, images := acttest.Actions(t)
	loadStepImages(t, host, images)

	workflow, err := os.ReadFile(filepath.Join("testdata", s.workflow))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{".github/workflows/" + s.workflow: string(workflow)}
	for k, v := range s.files {
		files[k] = v
	}
	dir, sha := steptest.Checkout(t, steptest.Repo{From: filepath.Join("..", "app"), Files: files,
		Remote: "https://github.com/acme/hello.git"})
	if s.prepare != nil {
		s.prepare(t, dir)
	}

	reg := registrytest.Start(t, registrytest.Options{Username: registryUser, Password: registryPassword})
	bare := gittest.Bare(t, map[string]string{"README.md": "# cluster state\n"}, "main")
	srv := gittest.Serve(t, filepath.Dir(bare), gittest.HTTPOptions{Token: gitopsToken})

	vars := map[string]string{
		"REGISTRY":      reg.Host,
		"GITOPS_REPO":   srv.URL + "/" + gittest.RepoName,
		"GO_IMAGE":      goImage,
		"RUNTIME_IMAGE": enginetest.BaseImage(t, host),
	}
	for k, v := range s.vars {
		vars[k] = v
	}
	res := acttest.Run(t, bin, acttest.Options{
		Dir: dir, Workflow: ".github/workflows/" + s.workflow, Event: "push",
		JobImage: jobImage, EngineHost: host,
		Actions: map[string]string{"gitship/gitship@v0": actions},
		Vars:    vars,
		Secrets: map[string]string{"GITHUB_TOKEN": registryPassword, "GITOPS_TOKEN": gitopsToken},
		Actor:   registryUser,
	})
	t.Logf("act exited %d:\n%s", res.Code, res.Output)
	for _, secret := range []string{registryPassword, gitopsToken} {
		if strings.Contains(res.Output, secret) {
			t.Errorf("a secret reached act's log unmasked")
		}
	}
	return actRun{Result: res, sha: sha, registry: reg.Host, gitops: bare}
}

// TestExampleUnderAct runs github-deploy.yml (its act variant, made from
// it by actVariant) under act with the real step images: lint, build
// (with the tests in a container), validate and publish in job build,
// then gitops-pr in job dev with the image build published, passed as
// the build job's output.
func TestExampleUnderAct(t *testing.T) {
	run := runWorkflow(t, actSetup{workflow: "github-deploy.act.yml"})
	if run.Code != 0 {
		t.Fatalf("act exited %d, want 0 (every job green)", run.Code)
	}
	for _, job := range []string{"build", "dev"} {
		if !regexp.MustCompile(`(?m)^\[deploy/` + job + `\s*\]\s+🏁  Job succeeded`).MatchString(run.Output) {
			t.Errorf("act's log has no %q for job %s", "Job succeeded", job)
		}
	}
	// Publish pushed the commit's tag to the loopback registry.
	ref, err := name.ParseReference(run.registry+"/acme/hello:"+run.sha, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref, remote.WithAuth(&authn.Basic{Username: registryUser, Password: registryPassword}))
	if err != nil {
		t.Fatalf("the registry has no %s: %v", ref, err)
	}
	image := run.registry + "/acme/hello@" + desc.Digest.String()

	// gitops-pr committed to the GitOps repository's main branch, with
	// the image the build job published: needs.build.outputs.image.
	head := gittest.Head(t, run.gitops, "main")
	files := gittest.Files(t, run.gitops, "main")
	pinned := false
	for name, content := range files {
		if strings.Contains(content, image) {
			pinned = true
			t.Logf("%s pins %s", name, image)
		}
	}
	if !pinned {
		t.Errorf("no file of the GitOps repository pins %s, the published image; files: %v", image, keys(files))
	}
	// The dev job's last step read gitops-pr's outputs.
	if want := "dev is at " + head + " (changed true)"; !strings.Contains(run.Output, want) {
		t.Errorf("act's log has no %q", want)
	}
}

// TestExampleUnderActLintFails plants a duplicate key in a values file:
// the lint step fails, act reports job build failed, exits non-zero, and
// the annotation names the file and line.
func TestExampleUnderActLintFails(t *testing.T) {
	run := runWorkflow(t, actSetup{workflow: "github-deploy.act.yml", files: map[string]string{
		"deploy/values/staging.yaml": "replicaCount: 2\n\nreplicaCount: 3\n",
	}})
	if run.Code == 0 {
		t.Fatalf("act exited 0, want a failure")
	}
	if n := strings.Count(run.Output, "::error file=deploy/values/staging.yaml,line=3,"); n != 1 {
		t.Errorf("act's log has %d ::error annotations on deploy/values/staging.yaml line 3, want 1", n)
	}
	if !regexp.MustCompile(`(?m)^\[deploy/build\s*\]\s+🏁  Job failed`).MatchString(run.Output) {
		t.Errorf("act's log has no %q for job build", "Job failed")
	}
	if strings.Contains(run.Output, "Run Main gitship/gitship/steps/build@v0") {
		t.Errorf("the build step ran after lint failed")
	}
	if n := gittest.Pushes(t, run.gitops); n != 0 {
		t.Errorf("the GitOps repository got %d pushes, want none", n)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
