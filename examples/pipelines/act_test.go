package pipelines_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
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
	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/sigstoretest"
	"github.com/gitship/gitship/internal/steptest"
	"github.com/gitship/gitship/internal/testenv"
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
	// merges are the merge commits the test made on the GitOps
	// repository's main, by pull request number.
	merges *merges
	// cluster is what the test played on the API server (with
	// actSetup.cluster).
	cluster *clusterPlay
	// sigstore is the Sigstore the run's keyless signing went to.
	sigstore *sigstoretest.Sigstore
}

// The identity GitHub's OIDC token gives a job of the example workflow
// installed as .github/workflows/deploy.yml, run on a push to main:
// Fulcio certifies it as the workflow's URL, and the example's gitops-pr
// steps require it.
const (
	oidcIssuer   = "https://token.actions.githubusercontent.com"
	workflowPath = "acme/hello/.github/workflows/deploy.yml@refs/heads/main"
	signer       = "https://github.com/" + workflowPath
)

// actSetup is what a run starts from.
type actSetup struct {
	// workflow is the file under testdata to run, on push.
	workflow string
	// as is its name in the checkout's .github/workflows (default: the
	// same name).
	as string
	// files change the checkout of examples/app.
	files map[string]string
	// vars are more workflow vars, besides REGISTRY, GITOPS_REPO,
	// GO_IMAGE and RUNTIME_IMAGE.
	vars map[string]string
	// prepare, when set, changes the checkout's directory (after the
	// commit) before act runs in it.
	prepare func(t *testing.T, dir string)
	// cluster starts a real API server for the deploy jobs' verify
	// steps (secret KUBECONFIG) and the application's health endpoints
	// (var APP_URL), and plays Flux and the kubelet on it.
	cluster bool
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
	if s.as == "" {
		s.as = s.workflow
	}
	files := map[string]string{".github/workflows/" + s.as: string(workflow)}
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
	merged := review(t, gh, bare)
	// Sigstore on loopback, whose token endpoint plays GitHub's for a
	// job with id-token: write (the act variant hands its URL and
	// bearer token to that job), with the claims GitHub gives the
	// workflow (its path in job_workflow_ref; the repository, from the
	// checkout's remote, and the branch in sub).
	ts := sigstoretest.Start(t, map[string]any{"iss": oidcIssuer, "sub": "repo:acme/hello:ref:refs/heads/main",
		"job_workflow_ref": "acme/hello/.github/workflows/" + s.as + "@refs/heads/main"})
	trustedRoot, err := os.ReadFile(ts.TrustedRoot)
	if err != nil {
		t.Fatal(err)
	}

	vars := map[string]string{
		"REGISTRY":      reg.Host,
		"GITOPS_REPO":   srv.URL + "/" + gittest.RepoName,
		"GO_IMAGE":      goImage,
		"RUNTIME_IMAGE": enginetest.BaseImage(t, host),
		"GITHUB_API":    gh.URL(),
		// Keyless signing and its check.
		"FULCIO_URL":                   ts.FulcioURL,
		"REKOR_URL":                    ts.RekorURL,
		"ACTIONS_ID_TOKEN_REQUEST_URL": ts.TokenURL,
		"SIGSTORE_TRUSTED_ROOT":        string(trustedRoot),
	}
	secrets := map[string]string{"GITHUB_TOKEN": registryPassword, "GITOPS_TOKEN": gitopsToken,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": sigstoretest.RequestToken}
	masked := []string{registryPassword, gitopsToken}
	var cluster *clusterPlay
	if s.cluster {
		cluster = playCluster(t, bare)
		kubeconfig, err := os.ReadFile(cluster.c.ReadOnlyKubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		secrets["KUBECONFIG"] = string(kubeconfig)
		masked = append(masked, cluster.c.ReadOnly.BearerToken)
		vars["APP_URL"] = cluster.app.URL
	}
	for k, v := range s.vars {
		vars[k] = v
	}
	start := time.Now()
	res := acttest.Run(t, bin, acttest.Options{
		Dir: dir, Workflow: ".github/workflows/" + s.as, Event: "push",
		JobImage: jobImage, EngineHost: host,
		Actions: map[string]string{"gitship/gitship@v0": actions},
		Vars:    vars,
		Secrets: secrets,
		Actor:   registryUser,
	})
	t.Logf("act exited %d after %s:\n%s", res.Code, time.Since(start).Round(time.Second), res.Output)
	for _, secret := range masked {
		if secret != "" && strings.Contains(res.Output, secret) {
			t.Errorf("a secret reached act's log unmasked")
		}
	}
	return actRun{Result: res, sha: sha, registry: reg.Host, gitops: bare, github: gh, merges: merged, cluster: cluster, sigstore: ts}
}

// merges are the merge commits review made, by pull request number.
type merges struct {
	mu     sync.Mutex
	commit map[int]string
}

func (m *merges) get(n int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.commit[n]
}

// review merges each pull request on gh once gitops-pr has set it up
// (its label, and for production its reviewers and auto-merge), as the
// reviewers of the GitOps repository would, until the test ends: a merge
// commit of the pull request's branch on main in repo, the GitOps
// repository, which the API fake then reports as the pull request's
// merge_commit_sha.
func review(t *testing.T, gh *forgetest.GitHub, repo string) *merges {
	m := &merges{commit: map[int]string{}}
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
				if pr.State != "open" || !ready || m.get(pr.Number) != "" {
					continue
				}
				sha, err := mergeBranch(repo, pr.Head, pr.Base, fmt.Sprintf("Merge pull request #%d from acme/%s", pr.Number, pr.Head))
				if err != nil {
					t.Errorf("merge pull request %d: %v", pr.Number, err)
					continue
				}
				m.mu.Lock()
				m.commit[pr.Number] = sha
				m.mu.Unlock()
				if err := gh.MergeAs(pr.Number, sha); err != nil {
					t.Errorf("merge pull request %d: %v", pr.Number, err)
				}
			}
		}
	}()
	return m
}

// mergeBranch merges branch into base in the bare repository repo as
// GitHub's merge button does (a merge commit, the base its first parent)
// and returns the commit.
func mergeBranch(repo, branch, base, message string) (string, error) {
	oldBase, err := git(repo, "rev-parse", "--verify", "refs/heads/"+base)
	if err != nil {
		return "", err
	}
	head, err := git(repo, "rev-parse", "--verify", "refs/heads/"+branch)
	if err != nil {
		return "", err
	}
	tree, err := git(repo, "merge-tree", "--write-tree", oldBase, head)
	if err != nil {
		return "", fmt.Errorf("%s does not merge into %s: %w", branch, base, err)
	}
	commit, err := git(repo, "commit-tree", "-p", oldBase, "-p", head, "-m", message, strings.Fields(tree)[0])
	if err != nil {
		return "", err
	}
	if _, err := git(repo, "update-ref", "refs/heads/"+base, commit, oldBase); err != nil {
		return "", err
	}
	return commit, nil
}

// git runs git in dir as gittest does and returns its output, trimmed.
// Unlike gittest.Git it does not fail a test: goroutines use it.
func git(dir string, args ...string) (string, error) {
	cmd := gittest.Command(dir, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// TestExampleUnderAct runs github-deploy.yml (its act variant, made from
// it by actVariant) under act with the real step images: lint, build
// (with the tests in a container), validate and publish in job build,
// then in each deploy job gitops-pr with the image build published,
// passed as the build job's output, and verify against a real API server
// on which the test plays Flux and the kubelet. The image is signed
// keyless against a Sigstore on loopback, with the identity GitHub gives
// the workflow installed as .github/workflows/deploy.yml, and each
// gitops-pr checks that signature and the provenance before pinning.
func TestExampleUnderAct(t *testing.T) {
	run := runWorkflow(t, actSetup{workflow: "github-deploy.act.yml", as: "deploy.yml", cluster: true})
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

	// publish signed it keyless (id-token: write: the job's OIDC token,
	// certified by the test's Fulcio, logged in its Rekor), and cosign,
	// independently, finds the signature and the provenance of the
	// workflow's identity on the digest.
	if pub, ok := stepLog(run.Output, "build", "Main gitship/gitship/steps/publish@v0"); !ok || pub.outputs["signed"] != "true" {
		t.Errorf("job build: publish's output signed = %q, want true", pub.outputs["signed"])
	}
	if want := "by " + signer + " (issuer " + oidcIssuer + ")"; !strings.Contains(jobLog(run.Output, "build"), want) {
		t.Errorf("job build: publish's log does not say it signed %q", want)
	}
	for _, args := range [][]string{{"verify"}, {"verify-attestation", "--type", "slsaprovenance1"}} {
		args = append(args, "--certificate-identity", signer, "--certificate-oidc-issuer", oidcIssuer,
			"--insecure-ignore-sct", "--trusted-root", run.sigstore.TrustedRoot, image)
		if out, err := cosign(t, run.registry, args...); err != nil {
			t.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// Each deploy job's gitops-pr verified the signature (the
	// workflow's identity) and the provenance (this repository's main,
	// the commit act ran on) before it pinned the digest.
	for _, env := range envs {
		log := jobLog(run.Output, env)
		if want := "Verified " + image + ": signed by " + signer + " (issuer " + oidcIssuer + ")"; !strings.Contains(log, want) {
			t.Errorf("job %s: gitops-pr's log has no %q", env, want)
		}
		if !regexp.MustCompile(`built from \S*github.com/acme/hello\S* ref \S*main commit ` + run.sha).MatchString(log) {
			t.Errorf("job %s: gitops-pr's log does not say the image was built from acme/hello main at %s", env, run.sha)
		}
	}

	// gitops-pr committed to the GitOps repository's main branch, with
	// the image the build job published: needs.build.outputs.image.
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
	// The dev job's step after gitops-pr read its outputs: its direct
	// commit.
	m := regexp.MustCompile(`dev is at ([0-9a-f]{40}) \(changed true\)`).FindStringSubmatch(run.Output)
	if m == nil {
		t.Fatalf("act's log has no %q", "dev is at COMMIT (changed true)")
	}
	// The commit each environment's gitops-pr made on main: dev's own,
	// then the merge commits of staging's and production's pull requests.
	commits := map[string]string{"dev": m[1]}

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
		commits[env] = run.merges.get(pr.Number)
		if pr.MergeCommit != commits[env] || commits[env] == "" {
			t.Errorf("pull request %d: merge commit %q, want %q, the one the test made", pr.Number, pr.MergeCommit, commits[env])
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
		// staging's step after gitops-pr reads its pr-url output.
		if want := "merged " + pr.HTMLURL; env == "staging" && !strings.Contains(run.Output, want) {
			t.Errorf("act's log has no %q", want)
		}
		// The pull request names who signed the image and what it was
		// built from.
		for _, want := range []string{"| Signed by | " + signer + " (issuer " + oidcIssuer + ")", "| Built from |", run.sha} {
			if !strings.Contains(pr.Body, want) {
				t.Errorf("pull request %d's body has no %q:\n%s", pr.Number, want, pr.Body)
			}
		}
		if env == "production" && (pr.AutoMerge == "" || !slices.Equal(pr.TeamReviewers, []string{"sre"})) {
			t.Errorf("production's pull request: auto-merge %q, team reviewers %q; want on, [sre]", pr.AutoMerge, pr.TeamReviewers)
		}
	}
	// main's history: what the jobs did, in their order, on the commit
	// the GitOps repository started from.
	history := strings.Fields(gittest.Git(t, run.gitops, "log", "--first-parent", "--format=%H", "main"))
	if want := []string{commits["production"], commits["staging"], commits["dev"]}; len(history) != 4 || !slices.Equal(history[:3], want) {
		t.Errorf("main's first-parent history is %q, want %q and the initial commit", history, want)
	}

	// verify, the last step of each deploy job, waited until the
	// environment ran that commit (the test, as Flux, applied it and
	// rolled out the image its manifests pin) and the health URL
	// answered, then reported it.
	for _, env := range envs {
		applied, rolled := run.cluster.appliedTo(env)
		if applied != commits[env] || rolled != image {
			t.Errorf("%s: the test applied %s with %s, want %s with %s", env, applied, rolled, commits[env], image)
		}
		step, ok := stepLog(run.Output, env, "Main gitship/gitship/steps/verify@v0")
		if !ok {
			t.Errorf("job %s: act's log has no verify step", env)
			continue
		}
		if got := step.outputs["revision"]; got != commits[env] {
			t.Errorf("job %s: verify's output revision = %q, want %s, gitops-pr's merge-commit", env, got, commits[env])
		}
		for _, out := range []string{"duration", "probe-latency-p50"} {
			if d, err := time.ParseDuration(step.outputs[out]); err != nil || d < 0 {
				t.Errorf("job %s: verify's output %s = %q, want a duration", env, out, step.outputs[out])
			}
		}
		if _, err := time.Parse(time.RFC3339, step.outputs["ready-at"]); err != nil {
			t.Errorf("job %s: verify's output ready-at = %q, want an RFC 3339 time", env, step.outputs["ready-at"])
		}
		for _, want := range []string{"### Verify", "Revision `" + commits[env] + "`",
			"| Kustomization flux-system/" + env + " | Ready at main@sha1:" + commits[env] + " |",
			"| Deployment hello-" + env + "/hello | rolled out, 1 of 1 replicas available, running " + desc.Digest.Hex[:12] + " |",
			fmt.Sprintf("/hello.%s.acme.example/healthz | ok | %d | %d |", env, appFailures+3, appFailures)} {
			if !strings.Contains(step.summary, want) {
				t.Errorf("job %s: verify's job summary has no %q:\n%s", env, want, step.summary)
			}
		}
		// The application's server failed the first probes: verify
		// probed again until it had its successes in a row (3).
		path := "/hello." + env + ".acme.example/healthz"
		if n := run.cluster.probesOf(path); n != appFailures+3 {
			t.Errorf("job %s: %d probes of %s, want %d (%d answered 503, then 3 right in a row)", env, n, path, appFailures+3, appFailures)
		}
	}
}

// jobLog is what act logged for job: its messages, one a line.
func jobLog(log, job string) string {
	var b strings.Builder
	for _, line := range strings.Split(log, "\n") {
		if m := actLine.FindStringSubmatch(line); m != nil && m[1] == job {
			b.WriteString(m[2] + "\n")
		}
	}
	return b.String()
}

// cosign runs the cosign CLI tools/cosign pins (built once per machine,
// GITSHIP_COSIGN names one built already) offline, with a HOME of its own
// and a Docker config holding the test registry's credentials.
func cosign(t *testing.T, registry string, args ...string) (string, error) {
	t.Helper()
	bin, err := gotool.Build(gotool.Command{Tool: "cosign", Module: "github.com/sigstore/cosign/v2",
		Package: "github.com/sigstore/cosign/v2/cmd/cosign", Env: "GITSHIP_COSIGN"})
	if err != nil {
		testenv.Unavailable(t, "cosign: %v", err)
	}
	home := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(registryUser + ":" + registryPassword))
	config := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, registry, auth)
	if err := os.WriteFile(filepath.Join(home, "config.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+home, "TUF_ROOT="+filepath.Join(home, ".tuf"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// actStep is what act logged for one step of a job.
type actStep struct {
	// outputs are the step outputs act set (::set-output:: NAME=VALUE).
	outputs map[string]string
	// summary is the Markdown the step wrote to GITHUB_STEP_SUMMARY.
	summary string
}

// actLine is a line of act's log: [WORKFLOW/JOB] MESSAGE, or a
// continuation of the message before it.
var actLine = regexp.MustCompile(`^\[[^/\]]+/(\S+)\s*\] (.*)$`)

// stepLog finds, in act's log, the step of job that act announces as
// "⭐ Run STEP" and reads what it logged: the outputs it set and its job
// summary.
func stepLog(log, job, step string) (actStep, bool) {
	s := actStep{outputs: map[string]string{}}
	found, in, inSummary := false, false, false
	var summary strings.Builder
	for _, line := range strings.Split(log, "\n") {
		m := actLine.FindStringSubmatch(line)
		if m == nil {
			if in && inSummary {
				summary.WriteString(line + "\n")
			}
			continue
		}
		if m[1] != job {
			continue
		}
		msg := strings.TrimSpace(m[2])
		inSummary = false
		switch {
		case strings.HasPrefix(msg, "⭐ Run "):
			in = msg == "⭐ Run "+step
			found = found || in
		case !in:
		case strings.HasPrefix(msg, "⚙  ::set-output:: "):
			k, v, _ := strings.Cut(strings.TrimPrefix(msg, "⚙  ::set-output:: "), "=")
			s.outputs[k] = v
		case strings.HasPrefix(msg, "⚙  Summary - "):
			inSummary = true
			summary.WriteString(strings.TrimPrefix(msg, "⚙  Summary - ") + "\n")
		}
	}
	s.summary = summary.String()
	return s, found
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
