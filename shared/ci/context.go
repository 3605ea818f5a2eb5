package ci

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitship/gitship/shared/ci/internal/gitdir"
	"github.com/gitship/gitship/shared/redact"
)

// Context is what a step knows about the run, the same on every platform.
type Context struct {
	Platform      string
	SHA           string // full commit SHA
	ShortSHA      string // first 7 characters of SHA
	Ref           string // refs/heads/main, refs/tags/v1.2.3, refs/pull/7/merge
	Branch        string // source branch (the PR's head branch in a PR)
	BaseBranch    string // target branch of a pull request
	Tag           string
	RepositoryURL string // https URL, never with credentials
	PullRequest   string // number or id; empty outside a PR
	RunID         string
	RunURL        string
	// RunAttempt is the attempt of a re-run run (GitHub's
	// GITHUB_RUN_ATTEMPT); empty where the platform does not say.
	RunAttempt string
	// Workflow names the workflow or pipeline definition that runs:
	// GitHub's GITHUB_WORKFLOW_REF (owner/repo/.github/workflows/ci.yml@refs/heads/main),
	// Azure's pipeline definition URL (Azure names no YAML file in the
	// environment), Cloud Build's TRIGGER_BUILD_CONFIG_PATH, else its
	// TRIGGER_NAME. Provenance records it.
	Workflow  string
	Workspace string // repository root on this machine
	// Actor and ActorEmail are who started the run, when the platform
	// says: commits the run makes are authored as them.
	Actor, ActorEmail string
	// CommitTime is the committer date of SHA, read from the checkout
	// (git log -1 --format=%cI); zero when the commit is not there.
	CommitTime time.Time

	// credentials were found in the repository URL (a variable, or the
	// origin remote) before it was stripped of them; NUL-separated, so a
	// Context stays comparable.
	credentials string
}

// Credentials are the secrets found in the URLs the context was read from
// (a token in the origin remote, or in BUILD_REPOSITORY_URI): the step
// masks and redacts them before it prints anything.
func (c Context) Credentials() []string {
	if c.credentials == "" {
		return nil
	}
	return strings.Split(c.credentials, "\x00")
}

// finish derives the fields computed from others.
func (c Context) finish() Context {
	if c.Branch == "" {
		c.Branch = strings.TrimPrefix(c.Ref, "refs/heads/")
		if c.Branch == c.Ref {
			c.Branch = ""
		}
	}
	if c.Tag == "" && strings.HasPrefix(c.Ref, "refs/tags/") {
		c.Tag = strings.TrimPrefix(c.Ref, "refs/tags/")
	}
	if c.PullRequest == "" && strings.HasPrefix(c.Ref, "refs/pull/") {
		c.PullRequest, _, _ = strings.Cut(strings.TrimPrefix(c.Ref, "refs/pull/"), "/")
	}
	if c.SHA != "" && c.ShortSHA == "" {
		c.ShortSHA = c.SHA[:min(7, len(c.SHA))]
	}
	for _, v := range append(redact.URLCredentials(c.RepositoryURL), redact.URLCredentials(c.RunURL)...) {
		if c.credentials != "" {
			c.credentials += "\x00"
		}
		c.credentials += v
	}
	c.RepositoryURL = redact.URL(c.RepositoryURL)
	c.RunURL = redact.URL(c.RunURL)
	return c
}

func githubContext(env Env) Context {
	c := Context{
		Platform:   "github",
		SHA:        env["GITHUB_SHA"],
		Ref:        env["GITHUB_REF"],
		Branch:     env["GITHUB_HEAD_REF"],
		BaseBranch: env["GITHUB_BASE_REF"],
		RunID:      env["GITHUB_RUN_ID"],
		RunAttempt: env["GITHUB_RUN_ATTEMPT"],
		Workflow:   env["GITHUB_WORKFLOW_REF"],
		Workspace:  env["GITHUB_WORKSPACE"],
		Actor:      env["GITHUB_ACTOR"],
	}
	if c.Actor != "" && env["GITHUB_ACTOR_ID"] != "" {
		// GitHub's noreply address links the commit to the account.
		c.ActorEmail = env["GITHUB_ACTOR_ID"] + "+" + c.Actor + "@users.noreply.github.com"
	}
	if server, repo := env["GITHUB_SERVER_URL"], env["GITHUB_REPOSITORY"]; server != "" && repo != "" {
		c.RepositoryURL = server + "/" + repo
		if c.RunID != "" {
			c.RunURL = c.RepositoryURL + "/actions/runs/" + c.RunID
		}
	}
	return c.finish()
}

func azureContext(env Env) Context {
	c := Context{
		Platform:      "azure",
		SHA:           env["BUILD_SOURCEVERSION"],
		Ref:           env["BUILD_SOURCEBRANCH"],
		RepositoryURL: env["BUILD_REPOSITORY_URI"],
		RunID:         env["BUILD_BUILDID"],
		Workspace:     env["BUILD_SOURCESDIRECTORY"],
		Actor:         env["BUILD_REQUESTEDFOR"],
		ActorEmail:    env["BUILD_REQUESTEDFOREMAIL"],
	}
	if src := env["SYSTEM_PULLREQUEST_SOURCEBRANCH"]; src != "" {
		c.Branch = strings.TrimPrefix(src, "refs/heads/")
		c.BaseBranch = strings.TrimPrefix(env["SYSTEM_PULLREQUEST_TARGETBRANCH"], "refs/heads/")
		// Azure Repos sets the id; GitHub-hosted repositories the number.
		c.PullRequest = firstNonEmpty(env["SYSTEM_PULLREQUEST_PULLREQUESTNUMBER"], env["SYSTEM_PULLREQUEST_PULLREQUESTID"])
	}
	if coll, proj := env["SYSTEM_COLLECTIONURI"], env["SYSTEM_TEAMPROJECT"]; coll != "" && proj != "" && c.RunID != "" {
		c.RunURL = strings.TrimSuffix(coll, "/") + "/" + url.PathEscape(proj) + "/_build/results?buildId=" + c.RunID
	}
	if coll, proj, def := env["SYSTEM_COLLECTIONURI"], env["SYSTEM_TEAMPROJECT"], env["SYSTEM_DEFINITIONID"]; coll != "" && proj != "" && def != "" {
		c.Workflow = strings.TrimSuffix(coll, "/") + "/" + url.PathEscape(proj) + "/_build?definitionId=" + url.QueryEscape(def)
	}
	return c.finish()
}

// cloudBuildContext reads the substitutions Cloud Build sets as env with
// options.automapSubstitutions (or a step's env: passes on; without either
// it expands them in the config text only).
// The workspace is the repository root found from the step's dir (a step
// may set dir: to a subfolder of /workspace), else that dir.
func cloudBuildContext(env Env) Context {
	c := Context{
		Platform:      "cloudbuild",
		SHA:           env["COMMIT_SHA"],
		ShortSHA:      env["SHORT_SHA"],
		Branch:        firstNonEmpty(env["_HEAD_BRANCH"], env["BRANCH_NAME"]),
		BaseBranch:    env["_BASE_BRANCH"],
		Tag:           env["TAG_NAME"],
		PullRequest:   env["_PR_NUMBER"],
		RepositoryURL: env["_REPOSITORY_URL"],
		RunID:         env["BUILD_ID"],
		Workflow:      firstNonEmpty(env["TRIGGER_BUILD_CONFIG_PATH"], env["TRIGGER_NAME"]),
	}
	switch {
	case c.Tag != "":
		c.Ref = "refs/tags/" + c.Tag
	case c.PullRequest != "":
		c.Ref = "refs/pull/" + c.PullRequest + "/head"
	case c.Branch != "":
		c.Ref = "refs/heads/" + c.Branch
	}
	if loc := env["LOCATION"]; loc != "" {
		c.RunURL = fmt.Sprintf("https://console.cloud.google.com/cloud-build/builds;region=%s/%s?project=%s", loc, c.RunID, env["PROJECT_ID"])
	} else {
		c.RunURL = fmt.Sprintf("https://console.cloud.google.com/cloud-build/builds/%s?project=%s", c.RunID, env["PROJECT_ID"])
	}
	return c.finish()
}

// fillFromGit completes what the platform did not say from the git
// repository around dir: a local run learns everything there, a CI run
// only what its variables lack. No repository is not an error. The
// repository is read by package gitdir, not go-git, so that a step that
// never touches git history does not link go-git.
func fillFromGit(c Context, dir string) Context {
	repo, err := gitdir.Find(dir)
	if err != nil {
		if c.Workspace == "" {
			c.Workspace = dir
		}
		return c.finish()
	}
	if c.Workspace == "" {
		c.Workspace = repo.Worktree
	}
	name, head, err := repo.Head()
	if err == nil {
		if c.SHA == "" {
			c.SHA = head.String()
		}
		if c.Ref == "" && strings.HasPrefix(name, "refs/heads/") {
			c.Ref = name
		}
		if c.Tag == "" && c.SHA == head.String() {
			c.Tag = repo.TagAt(head)
		}
	}
	if c.SHA != "" {
		if when, err := repo.CommitTime(gitdir.ParseHash(c.SHA)); err == nil {
			c.CommitTime = when
		}
	}
	if c.RepositoryURL == "" {
		if url, err := repo.RemoteURL("origin"); err == nil {
			c.RepositoryURL = url
		}
	}
	if c.Workspace != "" {
		if abs, err := filepath.Abs(c.Workspace); err == nil {
			c.Workspace = abs
		}
	}
	return c.finish()
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
