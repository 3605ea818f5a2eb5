package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/shared/redact"
)

func TestDetectContext(t *testing.T) {
	dir := t.TempDir() // not a git repository: only the platform's variables count
	tests := []struct {
		name string
		env  Env
		want Context
	}{
		{
			name: "github push to branch",
			env: Env{"GITHUB_ACTIONS": "true", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
				"GITHUB_REF": "refs/heads/feature/x", "GITHUB_REPOSITORY": "acme/app",
				"GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42", "GITHUB_WORKSPACE": dir},
			want: Context{Platform: "github", SHA: "0123456789abcdef0123456789abcdef01234567", ShortSHA: "0123456",
				Ref: "refs/heads/feature/x", Branch: "feature/x", RepositoryURL: "https://github.com/acme/app",
				RunID: "42", RunURL: "https://github.com/acme/app/actions/runs/42", Workspace: dir},
		},
		{
			name: "github pull request",
			env: Env{"GITHUB_ACTIONS": "true", "GITHUB_SHA": "abc", "GITHUB_REF": "refs/pull/7/merge",
				"GITHUB_HEAD_REF": "fix", "GITHUB_BASE_REF": "main", "GITHUB_WORKSPACE": dir},
			want: Context{Platform: "github", SHA: "abc", ShortSHA: "abc", Ref: "refs/pull/7/merge", Branch: "fix",
				BaseBranch: "main", PullRequest: "7", Workspace: dir},
		},
		{
			name: "github tag",
			env:  Env{"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v1.2.3", "GITHUB_WORKSPACE": dir},
			want: Context{Platform: "github", Ref: "refs/tags/v1.2.3", Tag: "v1.2.3", Workspace: dir},
		},
		{
			name: "azure pull request from azure repos",
			env: Env{"TF_BUILD": "True", "BUILD_SOURCEVERSION": "fedcba9876543210", "BUILD_SOURCEBRANCH": "refs/pull/12/merge",
				"SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/feature/y", "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main",
				"SYSTEM_PULLREQUEST_PULLREQUESTID": "12", "BUILD_REPOSITORY_URI": "https://user:tok@dev.azure.com/org/proj/_git/app",
				"BUILD_BUILDID": "99", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/org/", "SYSTEM_TEAMPROJECT": "My Proj",
				"BUILD_SOURCESDIRECTORY": dir},
			want: Context{Platform: "azure", SHA: "fedcba9876543210", ShortSHA: "fedcba9", Ref: "refs/pull/12/merge",
				Branch: "feature/y", BaseBranch: "main", PullRequest: "12",
				RepositoryURL: "https://dev.azure.com/org/proj/_git/app", RunID: "99",
				RunURL: "https://dev.azure.com/org/My%20Proj/_build/results?buildId=99", Workspace: dir},
		},
		{
			name: "cloud build tag",
			env: Env{"BUILD_ID": "b-1", "PROJECT_ID": "proj", "COMMIT_SHA": "1111111222222", "SHORT_SHA": "1111111",
				"TAG_NAME": "v2.0.0", "LOCATION": "europe-west1"},
			want: Context{Platform: "cloudbuild", SHA: "1111111222222", ShortSHA: "1111111", Ref: "refs/tags/v2.0.0",
				Tag: "v2.0.0", RunID: "b-1",
				RunURL: "https://console.cloud.google.com/cloud-build/builds;region=europe-west1/b-1?project=proj", Workspace: dir},
		},
		{
			name: "github re-run: attempt and workflow file",
			env: Env{"GITHUB_ACTIONS": "true", "GITHUB_SHA": "abc", "GITHUB_REF": "refs/heads/main", "GITHUB_REPOSITORY": "acme/app",
				"GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2",
				"GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/ci.yml@refs/heads/main", "GITHUB_WORKSPACE": dir},
			want: Context{Platform: "github", SHA: "abc", ShortSHA: "abc", Ref: "refs/heads/main", Branch: "main",
				RepositoryURL: "https://github.com/acme/app", RunID: "42", RunURL: "https://github.com/acme/app/actions/runs/42",
				RunAttempt: "2", Workflow: "acme/app/.github/workflows/ci.yml@refs/heads/main", Workspace: dir},
		},
		{
			name: "azure pipeline definition",
			env: Env{"TF_BUILD": "True", "BUILD_SOURCEVERSION": "abc", "BUILD_SOURCEBRANCH": "refs/heads/main",
				"BUILD_BUILDID": "99", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/org/", "SYSTEM_TEAMPROJECT": "My Proj",
				"SYSTEM_DEFINITIONID": "7", "BUILD_SOURCESDIRECTORY": dir},
			want: Context{Platform: "azure", SHA: "abc", ShortSHA: "abc", Ref: "refs/heads/main", Branch: "main", RunID: "99",
				RunURL:   "https://dev.azure.com/org/My%20Proj/_build/results?buildId=99",
				Workflow: "https://dev.azure.com/org/My%20Proj/_build?definitionId=7", Workspace: dir},
		},
		{
			name: "cloud build trigger config file",
			env: Env{"BUILD_ID": "b-3", "PROJECT_ID": "proj", "COMMIT_SHA": "33", "BRANCH_NAME": "main",
				"TRIGGER_NAME": "push-main", "TRIGGER_BUILD_CONFIG_PATH": "cloudbuild/ci.yaml"},
			want: Context{Platform: "cloudbuild", SHA: "33", ShortSHA: "33", Ref: "refs/heads/main", Branch: "main", RunID: "b-3",
				RunURL: "https://console.cloud.google.com/cloud-build/builds/b-3?project=proj", Workflow: "cloudbuild/ci.yaml", Workspace: dir},
		},
		{
			name: "cloud build branch",
			env:  Env{"BUILD_ID": "b-2", "PROJECT_ID": "proj", "COMMIT_SHA": "22", "BRANCH_NAME": "main"},
			want: Context{Platform: "cloudbuild", SHA: "22", ShortSHA: "22", Ref: "refs/heads/main", Branch: "main", RunID: "b-2",
				RunURL: "https://console.cloud.google.com/cloud-build/builds/b-2?project=proj", Workspace: dir},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Detect(tt.env, Options{Step: "lint", Dir: dir})
			if err != nil {
				t.Fatalf("Detect() = %v", err)
			}
			if got := p.Context(); got != tt.want {
				t.Errorf("Detect().Context() =\n %+v\nwant\n %+v", got, tt.want)
			}
			if p.Name() != tt.want.Platform {
				t.Errorf("Name() = %q, want %q", p.Name(), tt.want.Platform)
			}
		})
	}
}

func TestLocalContextFromGit(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x",
			"GIT_COMMITTER_DATE=2026-01-02T03:04:05+02:00")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "trunk")
	git("remote", "add", "origin", "https://bot:s3cret@example.com/acme/app.git")
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	git("add", "f")
	git("commit", "-q", "-m", "one")
	git("tag", "-a", "v0.1.0", "-m", "release")
	sha := git("rev-parse", "HEAD")
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)

	p, err := Detect(Env{}, Options{Step: "lint", Dir: sub})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Context()
	want := Context{Platform: "", SHA: sha, ShortSHA: sha[:7], Ref: "refs/heads/trunk", Branch: "trunk", Tag: "v0.1.0",
		RepositoryURL: "https://example.com/acme/app.git", Workspace: dir,
		CommitTime: time.Date(2026, 1, 2, 1, 4, 5, 0, time.UTC)}
	got.Platform = ""
	if creds := got.Credentials(); !slices.Equal(creds, []string{"s3cret"}) {
		t.Errorf("Credentials() = %q, want the origin's password, to mask and redact", creds)
	}
	got.credentials = ""
	if got != want {
		t.Errorf("local Context() =\n %+v\nwant\n %+v", got, want)
	}
	if p.Name() != "local" {
		t.Errorf("Name() = %q, want local", p.Name())
	}
}

// TestContextCredentials: a token in the repository URL a platform gives
// is found, and the URL kept in the Context is stripped of it.
func TestContextCredentials(t *testing.T) {
	env := Env{"TF_BUILD": "True", "BUILD_REPOSITORY_URI": "https://acme:azure-pat-0123456789@dev.azure.com/acme/app/_git/app"}
	p, err := Detect(env, Options{Step: "build", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Context()
	if c.RepositoryURL != "https://dev.azure.com/acme/app/_git/app" {
		t.Errorf("RepositoryURL = %q", c.RepositoryURL)
	}
	if got := c.Credentials(); !slices.Contains(got, "azure-pat-0123456789") {
		t.Errorf("Credentials() = %q, want the PAT", got)
	}
}

// TestOriginCredentials: a token in the checkout's origin remote, in a URL
// that does not parse, is found whole and the URL is not kept: the build
// label org.opencontainers.image.source, the pull request body and the
// summaries, which print Context.RepositoryURL, print redact.RedactedURL.
func TestOriginCredentials(t *testing.T) {
	for _, tt := range []struct{ remote, url, secret string }{
		{"https://bot:p@ss/w#rd x@github.com/acme/shop.git", redact.RedactedURL, "p@ss/w#rd x"},
		{"https://bot:tok%2Fen%40x@github.com/acme/shop.git", "https://github.com/acme/shop.git", "tok/en@x"},
	} {
		dir := t.TempDir()
		cmd := exec.Command("git", "init", "-q", dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
		if out, err := exec.Command("git", "-C", dir, "remote", "add", "origin", tt.remote).CombinedOutput(); err != nil {
			t.Fatalf("git remote add: %v\n%s", err, out)
		}
		p, err := Detect(Env{}, Options{Step: "build", Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		c := p.Context()
		if c.RepositoryURL != tt.url {
			t.Errorf("origin %q: RepositoryURL = %q, want %q", tt.remote, c.RepositoryURL, tt.url)
		}
		if !slices.Contains(c.Credentials(), tt.secret) {
			t.Errorf("origin %q: Credentials() = %q, want %q among them", tt.remote, c.Credentials(), tt.secret)
		}
	}
}
