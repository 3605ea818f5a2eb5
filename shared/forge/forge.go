// Package forge opens and updates the pull request that carries a
// rendered change to the GitOps repository, on the provider that hosts
// it: GitHub (go-github; GitHub Enterprise too), Azure DevOps
// (azure-devops-go-api's git client), or none (no pull request: the branch
// is pushed, or the change committed to the base branch directly).
package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// PullRequest is a pull request as the provider reports it.
type PullRequest struct {
	Number int
	URL    string // the page a reviewer opens, not the API URL
	Head   string // source branch, without refs/heads/
	Base   string // target branch, without refs/heads/
	Title  string
	Body   string
	State  State
	Draft  bool
	// MergeCommit is, once merged, the commit the merge made on Base
	// (a merge, squash or rebase commit: what a GitOps controller applies).
	MergeCommit string
}

// State is where a pull request stands.
type State string

const (
	Open   State = "open"
	Merged State = "merged"
	Closed State = "closed" // closed (abandoned on Azure) without merging
)

// Request is the pull request wanted for one app and environment.
type Request struct {
	Head, Base  string // branch names without refs/heads/
	Title, Body string
	Labels      []string
	Reviewers   []string // GitHub logins; Azure identities (unique names or ids)
	Draft       bool
	// AutoMerge asks the provider to merge once the checks and reviews
	// pass: GitHub auto-merge, Azure auto-complete. A provider or
	// repository that cannot is not an error: Ensure reports it in
	// Result.Warnings.
	AutoMerge bool
}

// Result is what Ensure did.
type Result struct {
	PullRequest PullRequest
	Created     bool     // false: an open pull request from Head to Base was updated
	Warnings    []string // what was asked but could not be done (auto-merge off for the repository, say)
}

// Provider is one hosting service's pull requests for one repository.
type Provider interface {
	// Name is "github", "azure" or "none".
	Name() string
	// Ensure opens a pull request from r.Head to r.Base, or updates the
	// open one (title, body, labels, reviewers): one pull request per
	// head branch, however often it runs.
	Ensure(ctx context.Context, r Request) (Result, error)
	// Get reads a pull request's current state.
	Get(ctx context.Context, number int) (PullRequest, error)
	// BodyLimit is the longest description the provider accepts, in
	// characters (GitHub 65536, Azure DevOps 4000); 0 means none.
	BodyLimit() int
}

// Options configure a Provider.
type Options struct {
	// Token authenticates: a GitHub token, an Azure DevOps PAT or
	// System.AccessToken. It never appears in an error.
	Token string
	// APIURL overrides the API endpoint: GitHub Enterprise
	// (https://ghe.example.com/api/v3/), or a test server for either
	// provider.
	APIURL string
	// HTTPClient is used for every call; nil is a client with a timeout.
	HTTPClient *http.Client
	// RetryWait is the wait before the first retry of a call the server
	// failed (5xx, broken connection); it doubles on each of the
	// following attempts (3 in all). 0 is 500ms.
	RetryWait time.Duration
}

// ErrUnsupported is returned by New for a repository URL no provider
// understands (use "none"), and by the none provider's Get.
var ErrUnsupported = errors.New("no pull request provider for this repository")

// ErrAuth is returned (wrapped, with the provider and the HTTP status)
// when the token is refused or lacks the rights.
var ErrAuth = errors.New("token refused")

// ErrClosed is returned by WaitMerged for a pull request closed (abandoned)
// without merging.
var ErrClosed = errors.New("closed without merging")

// ErrTimeout is returned by WaitMerged when the pull request is still open
// at the timeout.
var ErrTimeout = errors.New("not merged in time")

// Detect names the provider of a repository URL: "github" for github.com
// (https, ssh, git@), "azure" for dev.azure.com, ssh.dev.azure.com and
// *.visualstudio.com, "none" otherwise (file://, a bare path, anything
// else).
func Detect(repoURL string) string {
	host, _, ok := splitRepoURL(repoURL)
	switch {
	case !ok:
		return "none"
	case isGitHubHost(host):
		return "github"
	case isAzureHost(host):
		return "azure"
	}
	return "none"
}

// New makes the provider kind ("github", "azure", "none"; "" detects it
// from repoURL) for the repository at repoURL. A URL the kind cannot read
// (no owner and name for github; no organization, project and name for
// azure) is ErrUnsupported; so is an unknown kind. With kind "github" any
// host is GitHub Enterprise: its API is Options.APIURL, or
// https://host/api/v3/ when that is empty.
func New(kind, repoURL string, o Options) (Provider, error) {
	if kind == "" {
		kind = Detect(repoURL)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	if o.RetryWait <= 0 {
		o.RetryWait = defaultRetryWait
	}
	switch strings.ToLower(kind) {
	case "github":
		return newGitHub(repoURL, o)
	case "azure":
		return newAzure(repoURL, o)
	case "none":
		return None{}, nil
	}
	return nil, fmt.Errorf("forge kind %q: %w", kind, ErrUnsupported)
}
