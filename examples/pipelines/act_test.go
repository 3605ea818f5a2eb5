package pipelines_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/acttest"
	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/forgetest"
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
	refs map[string]string
}

// loadStepImages builds the step images (tools/imagegen, as make images
// does), pushes them to a loopback registry and has the engine pull
// them from there, and returns their names in the engine by step.
func loadStepImages(t *testing.T, host string) map[string]string {
	t.Helper()
	stepImages.once.Do(func() {
		start := time.Now()
		defer func() { t.Logf("step images built and loaded in %s", time.Since(start).Round(time.Second)) }()
		steps := acttest.Steps(t)
		dir := acttest.StepImages(t, steps)
		reg := registrytest.Start(t, registrytest.Options{})
		stepImages.refs = acttest.LoadImages(t, host, reg.Host, dir, steps)
	})
	if stepImages.refs == nil {
		t.Fatal("the step images could not be loaded (see the first act test)")
	}
	return stepImages.refs
}

// runs numbers the act runs of this process: act names a job's
// containers after the workflow's name and the job's, so each run's
// workflow gets a name of its own, and a test run alongside (another
// checkout's, on the same engine) does not remove them.
var runs atomic.Int64

// actRun is one run of a workflow under act on a checkout of
// examples/app (with files changed), publishing to a loopback registry
// with auth and deploying to a GitOps repository served on loopback.
type actRun struct {
	acttest.Result
	sha      string // the app commit the workflow ran on
	registry string // host:port of the app's registry
	gitops   string // the GitOps repository on disk
	github   *forgetest.GitHub
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
	actions := acttest.Actions(t, loadStepImages(t, host))

	workflow, err := os.ReadFile(filepath.Join("testdata", s.workflow))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("name: ${1}-%d-%d", os.Getpid(), runs.Add(1))
	workflow = regexp.MustCompile(`(?m)^name: (\S+)$`).ReplaceAll(workflow, []byte(name))
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
	gh := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: gitopsToken, AllowAutoMerge: true})
	review(t, gh)

	vars := map[string]string{
		"REGISTRY":      reg.Host,
		"GITOPS_REPO":   srv.URL + "/" + gittest.RepoName,
		"GO_IMAGE":      goImage,
		"RUNTIME_IMAGE": enginetest.BaseImage(t, host),
		"GITHUB_API":    gh.URL(),
	}
	for k, v := range s.vars {
		vars[k] = v
	}
	start := time.Now()
	res := acttest.Run(t, bin, acttest.Options{
		Dir: dir, Workflow: ".github/workflows/" + s.workflow, Event: "push",
		JobImage: jobImage, EngineHost: host,
		Actions: map[string]string{"gitship/gitship@v0": actions},
		Vars:    vars,
		Secrets: map[string]string{"GITHUB_TOKEN": registryPassword, "GITOPS_TOKEN": gitopsToken},
		Actor:   registryUser,
	})
	t.Logf("act exited %d after %s:\n%s", res.Code, time.Since(start).Round(time.Second), res.Output)
	for _, secret := range []string{registryPassword, gitopsToken} {
		if strings.Contains(res.Output, secret) {
			t.Errorf("a secret reached act's log unmasked")
		}
	}
	return actRun{Result: res, sha: sha, registry: reg.Host, gitops: bare, github: gh}
}

// review merges each pull request on gh once gitops-pr has set it up
// (its label, and for production its reviewers and auto-merge), as the
// reviewers of the GitOps repository would, until the test ends.
func review(t *testing.T, gh *forgetest.GitHub) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	t.Cleanup(func() { close(done); <-stopped })
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			for _, pr := range gh.PRs() {
				ready := len(pr.Labels) > 0 && (!slices.Contains(pr.Labels, "production") || pr.AutoMerge != "" && len(pr.TeamReviewers) > 0)
				if pr.State == "open" && ready {
					gh.Merge(pr.Number)
				}
			}
		}
	}()
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
	for _, job := range []string{"build", "dev", "staging", "production"} {
		if !regexp.MustCompile(`(?m)^\[deploy-[0-9-]+/` + job + `\s*\]\s+🏁  Job succeeded`).MatchString(run.Output) {
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
	// staging and production: a pull request each, on GitHub's API (the
	// fake), from a branch pushed to the GitOps repository with the
	// published image, merged while the job waited.
	prs := run.github.PRs()
	if len(prs) != 2 {
		t.Fatalf("%d pull requests, want 2 (staging, production): %+v", len(prs), prs)
	}
	for _, pr := range prs {
		if len(pr.Labels) != 1 {
			t.Errorf("pull request %d: labels %q, want one, its environment", pr.Number, pr.Labels)
			continue
		}
		env := pr.Labels[0]
		if !pr.Merged || pr.Base != "main" || pr.Head != "gitship/hello/"+env {
			t.Errorf("pull request %d: merged %t, %s <- %s; want merged, main <- gitship/hello/%s", pr.Number, pr.Merged, pr.Base, pr.Head, env)
		}
		pinned := false
		for _, content := range gittest.Files(t, run.gitops, pr.Head) {
			pinned = pinned || strings.Contains(content, image)
		}
		if !pinned {
			t.Errorf("branch %s does not pin %s", pr.Head, image)
		}
		if want := "Merged: " + pr.HTMLURL; !strings.Contains(run.Output, want) {
			t.Errorf("act's log has no %q: job %s did not wait for the merge", want, env)
		}
		// staging's last step reads gitops-pr's pr-url output.
		if want := "merged " + pr.HTMLURL; env == "staging" && !strings.Contains(run.Output, want) {
			t.Errorf("act's log has no %q", want)
		}
		if env == "production" && (pr.AutoMerge == "" || !slices.Equal(pr.TeamReviewers, []string{"sre"})) {
			t.Errorf("production's pull request: auto-merge %q, team reviewers %q; want on, [sre]", pr.AutoMerge, pr.TeamReviewers)
		}
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
	if !regexp.MustCompile(`(?m)^\[deploy-[0-9-]+/build\s*\]\s+🏁  Job failed`).MatchString(run.Output) {
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
