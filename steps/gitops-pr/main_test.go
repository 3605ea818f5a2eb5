package main

// End-to-end tests of the built gitship-gitops-pr binary: real git (bare
// repositories served by git http-backend with token auth) and the GitHub
// and Azure DevOps fakes of internal/forgetest.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gitship/gitship/internal/forgetest"
	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/steptest"
)

var binary string

func TestMain(m *testing.M) { steptest.Main(m, "gitship-gitops-pr", &binary) }

const (
	token  = "gitops-T0ken-s3cret"
	digest = "sha256:3f1e5b2c0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"
	image  = "registry.example.com/hello@" + digest
)

// gitopsRepo is a GitOps repository served over HTTP at
// URL/acme/gitops.git, with its path on disk for gittest's readers.
type gitopsRepo struct{ url, dir string }

func newGitOpsRepo(t *testing.T) gitopsRepo {
	t.Helper()
	bare := gittest.Bare(t, map[string]string{"README.md": "# cluster state\n"}, "main")
	root := t.TempDir()
	dir := filepath.Join(root, "acme", "gitops.git")
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bare, dir); err != nil {
		t.Fatal(err)
	}
	srv := gittest.Serve(t, root, gittest.HTTPOptions{Token: token})
	return gitopsRepo{url: srv.URL + "/acme/gitops.git", dir: dir}
}

// app is a checkout of examples/app with one commit.
func app(t *testing.T) (string, string) {
	t.Helper()
	return steptest.Checkout(t, steptest.Repo{From: filepath.Join("..", "..", "examples", "app")})
}

// env is a GitHub Actions run of the app repository.
func env(ws, sha, tmp string) map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_SHA": sha, "GITHUB_REF": "refs/heads/main",
		"GITHUB_REPOSITORY": "acme/shop", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "77",
		"GITHUB_ACTOR": "octocat", "GITHUB_ACTOR_ID": "583231",
		"GITHUB_OUTPUT": filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary"),
		"INPUT_TOKEN": token,
	}
}

// outputs reads GITHUB_OUTPUT: name=value lines and name<<delimiter blocks.
func outputs(t *testing.T, tmp string) map[string]string {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(tmp, "output"))
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			if k, v, ok := strings.Cut(lines[i], "="); ok {
				out[k] = v
			}
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func run(t *testing.T, ws string, e map[string]string, args ...string) steptest.Result {
	t.Helper()
	res := steptest.Run(t, binary, ws, e, args...)
	// Mask commands are the one place the CI must see it.
	if strings.Contains(withoutMasks(res.Stdout)+res.Stderr, token) {
		t.Errorf("the token reached the log:\n%s\n%s", res.Stdout, res.Stderr)
	}
	return res
}

// withoutMasks is out without its ::add-mask:: lines.
func withoutMasks(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func mustSucceed(t *testing.T, res steptest.Result) {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
}

func chartArgs(repo gitopsRepo, envName string) []string {
	return []string{"--gitops-repo", repo.url, "--environment", envName, "--chart", "deploy/chart",
		"--values", "deploy/values/{environment}.yaml", "--image", image}
}

// The example app promoted through dev (a direct commit), staging (a
// GitHub pull request) and production (an Azure DevOps pull request).
func TestPromoteThroughEnvironments(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	gh := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: token, AllowAutoMerge: true})
	az := forgetest.NewAzure(t, forgetest.AzureConfig{Org: "acme", Project: "platform", Repo: "gitops", Token: token})

	// dev: straight to main.
	tmp := t.TempDir()
	res := run(t, ws, env(ws, sha, tmp), append(chartArgs(repo, "dev"), "--direct")...)
	mustSucceed(t, res)
	files := gittest.Files(t, repo.dir, "main")
	dep := files["clusters/dev/hello/deployment-hello.yaml"]
	if !strings.Contains(dep, "image: "+image) || !strings.Contains(dep, "# Source: deploy/chart/templates/deployment.yaml") {
		t.Errorf("dev deployment:\n%s", dep)
	}
	if _, ok := files["clusters/dev/hello/.gitship-rendered"]; !ok {
		t.Error("no marker in the managed path")
	}
	msg := gittest.Git(t, repo.dir, "log", "-1", "--format=%B%n--%an <%ae>", "main")
	for _, want := range []string{"deploy(hello): dev to hello@sha256:3f1e5b2c0d9a", "Source-Commit: " + sha,
		"Image-Digest: " + image, "Pipeline-Run: https://github.com/acme/shop/actions/runs/77",
		"--octocat <583231+octocat@users.noreply.github.com>"} {
		if !strings.Contains(msg, want) {
			t.Errorf("commit message lacks %q:\n%s", want, msg)
		}
	}
	if out := outputs(t, tmp); out["changed"] != "true" || out["branch"] != "main" || out["pr-url"] != "" || out["merge-commit"] != out["commit"] {
		t.Errorf("dev outputs = %v (a direct commit is its own merge-commit)", out)
	}

	// staging: a pull request on GitHub.
	tmp = t.TempDir()
	res = run(t, ws, env(ws, sha, tmp), append(chartArgs(repo, "staging"), "--provider", "github",
		"--pr-repository", "https://github.com/acme/gitops", "--api-url", gh.URL(), "--label", "deploy", "--auto-merge")...)
	mustSucceed(t, res)
	prs := gh.PRs()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests on GitHub, want 1", len(prs))
	}
	pr := prs[0]
	if pr.Head != "gitship/hello/staging" || pr.Base != "main" || pr.Title != "Deploy hello to staging: hello@sha256:3f1e5b2c0d9a" ||
		pr.AutoMerge == "" || len(pr.Labels) != 1 {
		t.Errorf("pull request = %+v", pr)
	}
	for _, want := range []string{"| Environment | `staging` |", "| Image | `" + image + "` |", "- added `deployment-hello.yaml`",
		"+++ b/clusters/staging/hello/deployment-hello.yaml", "+  replicas: 2", "/acme/shop/commit/" + sha} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("pull request body lacks %q:\n%s", want, pr.Body)
		}
	}
	if _, ok := gittest.Files(t, repo.dir, "main")["clusters/staging/hello/deployment-hello.yaml"]; ok {
		t.Error("staging reached main without review")
	}
	branchFiles := gittest.Files(t, repo.dir, "gitship/hello/staging")
	if !strings.Contains(branchFiles["clusters/staging/hello/deployment-hello.yaml"], "replicas: 2") {
		t.Errorf("staging branch files: %v", keys(branchFiles))
	}
	out := outputs(t, tmp)
	if out["pr-number"] != "1" || out["pr-url"] != pr.HTMLURL || out["branch"] != "gitship/hello/staging" || out["changed"] != "true" {
		t.Errorf("staging outputs = %v", out)
	}

	// production: a pull request on Azure DevOps, after staging merged.
	gittest.Git(t, repo.dir, "update-ref", "refs/heads/main", "refs/heads/gitship/hello/staging")
	tmp = t.TempDir()
	res = run(t, ws, env(ws, sha, tmp), append(chartArgs(repo, "production"), "--provider", "azure",
		"--pr-repository", az.RepoURL(), "--api-url", az.OrgURL(), "--label", "production")...)
	mustSucceed(t, res)
	azPRs := az.PRs()
	if len(azPRs) != 1 || azPRs[0].SourceRefName != "refs/heads/gitship/hello/production" ||
		!strings.Contains(azPRs[0].Description, "| Environment | `production` |") {
		t.Errorf("Azure pull requests = %+v", azPRs)
	}
	if out := outputs(t, tmp); !strings.Contains(out["pr-url"], "/_git/gitops/pullrequest/") {
		t.Errorf("production outputs = %v", out)
	}
	fsckStrict(t, repo.dir)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The same input twice: one commit and one pull request; the second run
// changes nothing.
func TestIdempotent(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	gh := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: token})
	args := append(chartArgs(repo, "staging"), "--provider", "github", "--pr-repository", "https://github.com/acme/gitops", "--api-url", gh.URL())
	var commits []string
	for i := range 2 {
		tmp := t.TempDir()
		mustSucceed(t, run(t, ws, env(ws, sha, tmp), args...))
		out := outputs(t, tmp)
		commits = append(commits, out["commit"])
		if want := fmt.Sprint(i == 0); out["changed"] != want {
			data, _ := os.ReadFile(filepath.Join(tmp, "output"))
			t.Errorf("run %d: changed = %q, want %s; GITHUB_OUTPUT:\n%s", i+1, out["changed"], want, data)
		}
	}
	if commits[0] != commits[1] || len(gittest.Log(t, repo.dir, "gitship/hello/staging")) != 2 {
		t.Errorf("commits %v; branch log %v", commits, gittest.Log(t, repo.dir, "gitship/hello/staging"))
	}
	if n := len(gh.PRs()); n != 1 {
		t.Errorf("%d pull requests, want 1", n)
	}

	// Direct: a run that renders what main has makes no commit.
	before := gittest.Head(t, repo.dir, "main")
	for range 2 {
		tmp := t.TempDir()
		mustSucceed(t, run(t, ws, env(ws, sha, tmp), append(chartArgs(repo, "dev"), "--direct")...))
	}
	if log := gittest.Log(t, repo.dir, "main"); len(log) != 2 || gittest.Head(t, repo.dir, "main") == before {
		t.Errorf("main log after two identical direct runs: %v", log)
	}
}

// Ten pipelines for ten apps commit to one base branch at once: all land.
// Two for one app and environment: one pull request, the last content.
func TestConcurrentRuns(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	var wg sync.WaitGroup
	results := make([]steptest.Result, 10)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = steptest.Run(t, binary, ws, env(ws, sha, t.TempDir()), append(chartArgs(repo, "dev"), "--direct",
				"--app", fmt.Sprintf("app%d", i), "--release-name", "hello")...)
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.Code != 0 {
			t.Errorf("run %d: exit %d\n%s", i, res.Code, res.Stderr)
		}
	}
	files := gittest.Files(t, repo.dir, "main")
	for i := range results {
		if _, ok := files[fmt.Sprintf("clusters/dev/app%d/deployment-hello.yaml", i)]; !ok {
			t.Errorf("app%d's commit was lost", i)
		}
	}
	if n := len(gittest.Log(t, repo.dir, "main")); n != 11 {
		t.Errorf("%d commits on main, want 11", n)
	}

	gh := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: token})
	done := make(chan string, 2)
	for _, replicas := range []string{"5", "7"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tmp := t.TempDir()
			res := steptest.Run(t, binary, ws, env(ws, sha, tmp), append(chartArgs(repo, "staging"), "--set", "replicaCount="+replicas,
				"--provider", "github", "--pr-repository", "https://github.com/acme/gitops", "--api-url", gh.URL())...)
			if res.Code != 0 {
				t.Errorf("replicas %s: exit %d\n%s", replicas, res.Code, res.Stderr)
			}
			done <- replicas
		}()
	}
	wg.Wait()
	<-done
	last := <-done
	if n := len(gh.PRs()); n != 1 {
		t.Errorf("%d pull requests for one app and environment, want 1", n)
	}
	dep := gittest.Files(t, repo.dir, "gitship/hello/staging")["clusters/staging/hello/deployment-hello.yaml"]
	if !strings.Contains(dep, "replicas: "+last) {
		t.Errorf("the branch does not hold the last run's content (replicas %s):\n%s", last, dep)
	}
}

// Faults: a push rejected mid-run lands on retry; a 5xx from the API is
// retried; a token without rights fails clearly, with nothing on main and
// the token nowhere.
func TestFaults(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)

	gittest.RacePushes(t, repo.dir, 2)
	mustSucceed(t, run(t, ws, env(ws, sha, t.TempDir()), append(chartArgs(repo, "dev"), "--direct")...))
	if _, ok := gittest.Files(t, repo.dir, "main")["clusters/dev/hello/deployment-hello.yaml"]; !ok {
		t.Error("the change did not land after two pushes that lost a race")
	}

	gh := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: token})
	gh.FailNext(1, 502)
	e := env(ws, sha, t.TempDir())
	prArgs := append(chartArgs(repo, "staging"), "--provider", "github", "--pr-repository", "https://github.com/acme/gitops", "--api-url", gh.URL())
	mustSucceed(t, run(t, ws, e, prArgs...))
	if n := len(gh.PRs()); n != 1 {
		t.Errorf("%d pull requests after a 502, want 1", n)
	}

	// The token may push (the git server takes it) but only read on this
	// API: a GITHUB_TOKEN without pull-requests: write.
	readOnly := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: "admin-T0ken", ReadOnlyToken: token})
	mainBefore := gittest.Head(t, repo.dir, "main")
	for _, tt := range []struct {
		name, token string
		args        []string
		want        string
	}{
		{"api token without rights", token, append(chartArgs(repo, "production"), "--provider", "github",
			"--pr-repository", "https://github.com/acme/gitops", "--api-url", readOnly.URL()), "403"},
		{"git token refused", "wrong-T0ken", append(chartArgs(repo, "dev"), "--direct", "--app", "other"), "authentication failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := env(ws, sha, t.TempDir())
			e["INPUT_TOKEN"] = tt.token
			res := steptest.Run(t, binary, ws, e, tt.args...)
			all := res.Stdout + res.Stderr
			if res.Code != 1 || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", res.Code, tt.want, res.Stderr)
			}
			if strings.Contains(strings.ReplaceAll(all, "::add-mask::"+tt.token, ""), tt.token) {
				t.Errorf("the token reached the log:\n%s", all)
			}
		})
	}
	if gittest.Head(t, repo.dir, "main") != mainBefore {
		t.Error("a failed run changed main")
	}
}

// Invalid manifests are never committed.
func TestInvalidNotCommitted(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	before := gittest.Head(t, repo.dir, "main")
	res := run(t, ws, env(ws, sha, t.TempDir()), append(chartArgs(repo, "dev"), "--direct", "--set", "replicaCount=many")...)
	if res.Code != 1 || !strings.Contains(res.Stdout, "spec.replicas: wrong type") || !strings.Contains(res.Stderr, "nothing was committed") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if gittest.Head(t, repo.dir, "main") != before {
		t.Error("invalid manifests were committed")
	}
}

// Bad input exits 2 naming the flag, before anything is cloned or pushed.
func TestBadInput(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	head := gittest.Head(t, repo.dir, "main")
	base := []string{"--environment", "dev", "--chart", "deploy/chart"}
	direct := func(args ...string) []string {
		return append(append([]string{"--gitops-repo", repo.url, "--direct"}, base...), args...)
	}
	pr := func(args ...string) []string {
		return append(append([]string{"--gitops-repo", repo.url, "--provider", "none"}, base...), args...)
	}
	repoArg := func(url string) []string { return append([]string{"--gitops-repo", url, "--direct"}, base...) }
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no repo", []string{"--environment", "dev", "--chart", "deploy/chart"}, 2, "--gitops-repo is required"},
		{"no environment", []string{"--gitops-repo", repo.url, "--chart", "deploy/chart"}, 2, "--environment is required"},
		{"two sources", []string{"--gitops-repo", repo.url, "--environment", "dev", "--chart", "deploy/chart", "--kustomize", "k"}, 2, "give one of"},
		// Issue 14: --chart and --kustomize are the lists validate takes;
		// gitops-pr renders one app and refuses a second value.
		{"second chart", direct("--chart", "deploy/other"), 2, `--chart given 2 times (["deploy/chart" "deploy/other"]): this step renders one app, give one --chart`},
		{"second kustomize", []string{"--gitops-repo", repo.url, "--environment", "dev", "--kustomize", "a", "--kustomize=b", "--direct"}, 2, `--kustomize given 2 times`},
		{"path escapes", append(chartArgs(repo, "dev"), "--path", "../outside"), 2, "--path"},
		{"path with a line break", direct("--path", "clusters/dev\n\nSigned-off-by: evil <e@x>"), 2, "--path"},
		{"image matches nothing", direct("--image", "ghcr.io/acme/other@"+digest), 1, "matched no container image"},
		{"missing values", []string{"--gitops-repo", repo.url, "--environment", "nowhere", "--chart", "deploy/chart", "--values", "deploy/values/{environment}.yaml", "--direct"}, 2, "deploy/values/nowhere.yaml"},

		// Issue 13, item 8: --image without a digest, or a malformed one.
		{"image tag instead of digest", direct("--image", "registry.example.com/hello:1.0"), 2, `--image "registry.example.com/hello:1.0": want REPOSITORY@sha256`},
		{"image short digest", direct("--image", "registry.example.com/hello@sha256:3f1e5b"), 2, "--image"},
		{"image digest in capitals", direct("--image", "registry.example.com/hello@"+strings.ToUpper(digest)), 2, "--image"},
		{"image digest algorithm", direct("--image", "registry.example.com/hello@md5:3f1e5b2c0d9a8b7c6d5e4f3a2b1c0d9e"), 2, "--image"},
		{"image with a line break", direct("--image", "registry.example.com/hello@"+digest+"\nImage-Digest: evil"), 2, "--image"},
		// A branch name git refuses.
		{"base branch with ..", direct("--gitops-branch", "main..x"), 2, `--gitops-branch: branch "main..x"`},
		{"base branch ending .lock", direct("--gitops-branch", "release.lock"), 2, `ends with ".lock"`},
		{"base branch with a space", direct("--gitops-branch", "my branch"), 2, "--gitops-branch"},
		{"base branch starting -", direct("--gitops-branch=-main"), 2, "--gitops-branch"},
		{"base branch HEAD", direct("--gitops-branch", "HEAD"), 2, "--gitops-branch"},
		{"base branch with @{", direct("--gitops-branch", "main@{1}"), 2, "--gitops-branch"},
		{"pull request branch of --app", pr("--app", "web.lock"), 2, `--app "web.lock" and --environment "dev" name the pull request's branch`},
		{"pull request branch of --app with ..", pr("--app", "a..b"), 2, "--app"},
		// A malformed --gitops-repo.
		{"repo with a space in the host", repoArg("https://git hub.com/acme/gitops"), 2, "--gitops-repo"},
		{"repo without a host", repoArg("https:///acme/gitops"), 2, "--gitops-repo: \"https:///acme/gitops\" is not a git URL: no host"},
		{"repo with an unknown scheme", repoArg("ftp://example.com/gitops.git"), 2, `the scheme "ftp"`},
		{"repo with a line break", repoArg("https://example.com/gitops.git\n::error::x"), 2, "line break"},
		{"repo with credentials and no host", repoArg("https://x-access-token:" + token + "@/acme/gitops"), 2, "--gitops-repo: \"https:///acme/gitops\""},
		{"repo that does not parse, with credentials", repoArg("https://x:" + token + " x@example.com/gitops"), 2, "--gitops-repo: <redacted URL> is not a git URL"},
		{"ssh repo without a path", repoArg("ssh://git@example.com"), 2, "no repository path"},
		// Issue 13, item 7: commit header injection.
		{"author name with a line break", direct("--author-name", "gitship\ncommitter evil <e@x> 0 +0000"), 2, "--author-name"},
		{"author name with <>", direct("--author-name", "gitship <evil@example.com>"), 2, "--author-name"},
		{"author email with >", direct("--author-email", "a@example.com> 0 +0000"), 2, "--author-email"},
		{"author email with a line break", direct("--author-email", "a@example.com\n\nSigned-off-by: x"), 2, "--author-email"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, ws, env(ws, sha, t.TempDir()), tt.args...)
			if res.Code != tt.code || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s", res.Code, tt.code, tt.want, res.Stderr)
			}
			if tt.code == 2 && strings.Contains(res.Stdout, "gitops: clone") {
				t.Errorf("bad input reached the GitOps repository:\n%s", res.Stdout)
			}
		})
	}
	if got := gittest.Head(t, repo.dir, "main"); got != head {
		t.Errorf("main moved to %s on bad input", got)
	}
	if n := gittest.Pushes(t, repo.dir); n != 0 {
		t.Errorf("%d pushes on bad input", n)
	}
	if refs := gittest.Git(t, repo.dir, "for-each-ref", "--format=%(refname)"); refs != "refs/heads/main\n" {
		t.Errorf("refs after bad input:\n%s", refs)
	}
}

// A push the server refuses by policy (a pre-receive hook, branch
// protection) fails at once with the server's own text: no retries, exit
// 1. Over smart HTTP and over file:// and a path with git on PATH (the
// in-process server of the step images runs no hooks).
func TestRefusedByPolicy(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	head := gittest.Head(t, repo.dir, "main")
	for _, tc := range []struct{ name, url string }{
		{"http", repo.url}, {"file", "file://" + repo.dir}, {"path", repo.dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := gittest.Pushes(t, repo.dir)
			gittest.RejectPushes(t, repo.dir, 100, "policy: main is protected", "policy: deploy through a pull request")
			res := run(t, ws, env(ws, sha, t.TempDir()), "--gitops-repo", tc.url, "--environment", "dev", "--chart", "deploy/chart",
				"--image", image, "--direct")
			if res.Code != 1 {
				t.Errorf("exit %d, want 1\n%s\n%s", res.Code, res.Stdout, res.Stderr)
			}
			for _, want := range []string{"the server refused the push", "pre-receive hook declined",
				"remote: policy: main is protected", "remote: policy: deploy through a pull request"} {
				if !strings.Contains(res.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
				}
			}
			if strings.Contains(res.Stdout, "; retry ") {
				t.Errorf("a refusal by policy was retried:\n%s", res.Stdout)
			}
			if got := gittest.Pushes(t, repo.dir) - before; got != 1 {
				t.Errorf("the hook ran %d times, want 1", got)
			}
		})
	}
	if got := gittest.Head(t, repo.dir, "main"); got != head {
		t.Errorf("main moved to %s", got)
	}
}

// mergeCommit is the commit the fake forge's merge made on main.
const mergeCommit = "5f3c0b9a2d7e41c68f0a9b1e2d3c4f5a6b7c8d9e"

// --wait-merged blocks until the pull request is merged, and fails when it
// is closed instead.
func TestWaitMerged(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	for _, tt := range []struct {
		name   string
		finish func(gh *forgetest.GitHub, n int) error
		code   int
		want   string
	}{
		{"merged", func(gh *forgetest.GitHub, n int) error { return gh.MergeAs(n, mergeCommit) }, 0, "Merged: "},
		{"closed", (*forgetest.GitHub).Close, 1, "closed without merging"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gh := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: token})
			go func() {
				// A reviewer acts once the pull request is there.
				for i := 0; i < 600; i++ {
					if prs := gh.PRs(); len(prs) == 1 {
						tt.finish(gh, prs[0].Number)
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
			tmp := t.TempDir()
			res := run(t, ws, env(ws, sha, tmp), append(chartArgs(repo, "staging"), "--app", "hello-"+tt.name, "--provider", "github",
				"--pr-repository", "https://github.com/acme/gitops", "--api-url", gh.URL(),
				"--wait-merged", "30s", "--wait-poll", "50ms")...)
			if res.Code != tt.code || !strings.Contains(res.Stdout+res.Stderr, tt.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s\n%s", res.Code, tt.code, tt.want, res.Stdout, res.Stderr)
			}
			// What verify --revision takes: the merge's commit on main.
			if out := outputs(t, tmp); tt.code == 0 && out["merge-commit"] != mergeCommit {
				t.Errorf("merge-commit = %q, want the pull request's merge commit %s", out["merge-commit"], mergeCommit)
			}
		})
	}
}

// Kustomize overlays and manifests rendered by validate --render-to are
// sources too; --include-source commits what was rendered from.
func TestOtherSources(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	overlay := filepath.Join(ws, "deploy", "overlays", "dev")
	os.MkdirAll(overlay, 0o755)
	os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte("resources:\n- ../../../rendered\nnamePrefix: dev-\n"), 0o644)
	rendered := filepath.Join(ws, "rendered")
	os.MkdirAll(rendered, 0o755)
	os.WriteFile(filepath.Join(rendered, "kustomization.yaml"), []byte("resources:\n- deployment.yaml\n"), 0o644)
	os.WriteFile(filepath.Join(rendered, "deployment.yaml"), []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/hello:1.0
`), 0o644)

	e := env(ws, sha, t.TempDir())
	mustSucceed(t, run(t, ws, e, "--gitops-repo", repo.url, "--environment", "dev", "--kustomize", "deploy/overlays/{environment}",
		"--app", "web", "--image", image, "--direct", "--include-source"))
	files := gittest.Files(t, repo.dir, "main")
	if dep := files["clusters/dev/web/deployment-dev-web.yaml"]; !strings.Contains(dep, "image: "+image) {
		t.Errorf("kustomize deployment: %q (files %v)", dep, keys(files))
	}
	if _, ok := files["clusters/dev/web/.source/deploy/overlays/dev/kustomization.yaml"]; !ok {
		t.Errorf("--include-source did not commit the overlay: %v", keys(files))
	}

	mustSucceed(t, run(t, ws, env(ws, sha, t.TempDir()), "--gitops-repo", repo.url, "--environment", "staging",
		"--manifests", "rendered/deployment.yaml", "--app", "web", "--image", image, "--direct"))
	if dep := gittest.Files(t, repo.dir, "main")["clusters/staging/web/deployment-web.yaml"]; !strings.Contains(dep, "image: "+image) {
		t.Errorf("manifests deployment: %q", dep)
	}
}

// A path in the GitOps repository that gitship does not manage is never
// overwritten.
func TestUnmanagedPath(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	res := run(t, ws, env(ws, sha, t.TempDir()), append(chartArgs(repo, "dev"), "--direct", "--path", ".")...)
	if res.Code != 2 {
		t.Errorf("--path .: exit %d\n%s", res.Code, res.Stderr)
	}
	// README.md's directory holds files gitship did not write.
	res = run(t, ws, env(ws, sha, t.TempDir()), append(chartArgs(repo, "dev"), "--direct", "--path", "docs")...)
	mustSucceed(t, res) // a new directory is fine
	gittest.Git(t, repo.dir, "update-ref", "refs/heads/main", gittest.Head(t, repo.dir, "main"))
	work := t.TempDir()
	gittest.Git(t, work, "clone", "-q", repo.dir, "c")
	os.MkdirAll(filepath.Join(work, "c", "infra"), 0o755)
	os.WriteFile(filepath.Join(work, "c", "infra", "cluster.yaml"), []byte("hand: written\n"), 0o644)
	gittest.Git(t, filepath.Join(work, "c"), "add", "-A")
	gittest.Git(t, filepath.Join(work, "c"), "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "infra")
	gittest.Git(t, filepath.Join(work, "c"), "push", "-q", "origin", "main")
	res = run(t, ws, env(ws, sha, t.TempDir()), append(chartArgs(repo, "dev"), "--direct", "--path", "infra")...)
	if res.Code != 2 || !strings.Contains(res.Stderr, "does not manage it") {
		t.Errorf("--path infra: exit %d\n%s", res.Code, res.Stderr)
	}
	if got := gittest.Files(t, repo.dir, "main")["infra/cluster.yaml"]; got != "hand: written\n" {
		t.Errorf("infra/cluster.yaml = %q", got)
	}
}

// A commit signed with an SSH key verifies with git, as Flux verifies it.
func TestSignedCommit(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "signing_key")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	sshPub, _ := ssh.NewPublicKey(pub)
	allowed := filepath.Join(dir, "allowed_signers")
	os.WriteFile(allowed, []byte("gitship@example.com "+string(ssh.MarshalAuthorizedKey(sshPub))), 0o644)

	mustSucceed(t, run(t, ws, env(ws, sha, t.TempDir()), append(chartArgs(repo, "dev"), "--direct",
		"--signing-key-file", keyFile, "--author-name", "gitship", "--author-email", "gitship@example.com")...))
	out, err := gittest.Command(repo.dir, "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile="+allowed,
		"verify-commit", "main").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `Good "git" signature`) {
		t.Errorf("git verify-commit: %v\n%s", err, out)
	}
}

// With no provider the branch is pushed and the description written to a
// file, for a reviewer to open the pull request by hand (and for local
// runs).
func TestProviderNone(t *testing.T) {
	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	desc := filepath.Join(t.TempDir(), "staging.md")
	tmp := t.TempDir()
	mustSucceed(t, run(t, ws, env(ws, sha, tmp), append(chartArgs(repo, "staging"), "--provider", "none", "--description-file", desc)...))
	if out := outputs(t, tmp); out["branch"] != "gitship/hello/staging" || out["pr-url"] != "" || out["changed"] != "true" {
		t.Errorf("outputs = %v", out)
	}
	if _, ok := gittest.Files(t, repo.dir, "gitship/hello/staging")["clusters/staging/hello/deployment-hello.yaml"]; !ok {
		t.Error("the branch was not pushed")
	}
	data, err := os.ReadFile(desc)
	if err != nil || !strings.HasPrefix(string(data), "# Deploy hello to staging: hello@sha256:3f1e5b2c0d9a\n") ||
		!strings.Contains(string(data), "```diff") {
		t.Errorf("description file: %v\n%s", err, data)
	}
}
