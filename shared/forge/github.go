package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v84/github"

	"github.com/gitship/gitship/shared/redact"
)

// gitHubBodyLimit is the longest pull request body GitHub accepts.
const gitHubBodyLimit = 65536

// GitHub is the pull requests of one repository on GitHub or GitHub
// Enterprise, through go-github.
type GitHub struct {
	c          *github.Client
	repo       gitHubRepo
	graphqlURL string
	token      string
	retryWait  time.Duration
}

var _ Provider = (*GitHub)(nil)

func newGitHub(repoURL string, o Options) (*GitHub, error) {
	repo, err := parseGitHubURL(repoURL)
	if err != nil {
		return nil, err
	}
	api := o.APIURL
	if api == "" {
		api = "https://api.github.com/"
		if !isGitHubHost(repo.Host) {
			api = "https://" + repo.Host + "/api/v3/"
		}
	}
	base, err := url.Parse(api)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("github API URL %q: not an absolute URL", redact.URL(api))
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	// GraphQL lives beside REST: api.github.com/graphql, and
	// host/api/graphql on GitHub Enterprise Server (REST at /api/v3/).
	gql := *base
	if strings.HasSuffix(gql.Path, "/api/v3/") {
		gql.Path = strings.TrimSuffix(gql.Path, "v3/") + "graphql"
	} else {
		gql.Path += "graphql"
	}

	hc := withTransport(o.HTTPClient, func(rt http.RoundTripper) http.RoundTripper {
		return &retryTransport{base: rt, wait: o.RetryWait}
	})
	c := github.NewClient(hc).WithAuthToken(o.Token)
	c.BaseURL = base
	c.UploadURL = base
	c.UserAgent = userAgent
	return &GitHub{c: c, repo: repo, graphqlURL: gql.String(), token: o.Token, retryWait: o.RetryWait}, nil
}

// Name is "github".
func (g *GitHub) Name() string { return "github" }

// BodyLimit is 65536 characters.
func (g *GitHub) BodyLimit() int { return gitHubBodyLimit }

// Ensure finds the open pull request from r.Head to r.Base
// (GET /repos/{o}/{r}/pulls?head=o:Head&base=Base&state=open) and updates
// its title and body (PATCH, when they changed), or creates it (POST,
// with draft); then adds the labels it lacks, requests the reviewers not
// requested yet ("org/team" for a team; someone who has reviewed already
// is asked again) and enables auto-merge through GraphQL, where asked and
// not on already. A reviewer or label GitHub refuses (422), and auto-merge
// the repository does not allow, are warnings.
func (g *GitHub) Ensure(ctx context.Context, r Request) (Result, error) {
	res, err := g.ensure(ctx, r)
	return res, maskToken(err, g.token)
}

func (g *GitHub) ensure(ctx context.Context, r Request) (Result, error) {
	if r.Head == "" || r.Base == "" || r.Title == "" {
		return Result{}, errors.New("github: pull request needs a head, a base and a title")
	}
	body, warnings := truncate(r.Body, gitHubBodyLimit)
	pr, created, err := g.upsert(ctx, r, body)
	if err != nil {
		return Result{}, err
	}
	res := Result{Created: created, Warnings: warnings}
	n := pr.GetNumber()

	if labels := missingLabels(pr, r.Labels); len(labels) > 0 {
		_, _, err := g.c.Issues.AddLabelsToIssue(idempotent(ctx), g.repo.Owner, g.repo.Name, n, labels)
		if w, err := g.soft("add labels", err); err != nil {
			return Result{}, err
		} else if w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	if rr := missingReviewers(pr, reviewers(r.Reviewers)); len(rr.Reviewers)+len(rr.TeamReviewers) > 0 {
		_, _, err := g.c.PullRequests.RequestReviewers(idempotent(ctx), g.repo.Owner, g.repo.Name, n, rr)
		if w, err := g.soft("request reviewers", err); err != nil {
			return Result{}, err
		} else if w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	if r.AutoMerge && pr.AutoMerge == nil {
		w, err := g.enableAutoMerge(ctx, pr.GetNodeID())
		if err != nil {
			return Result{}, err
		}
		if w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	res.PullRequest = gitHubPR(pr)
	return res, nil
}

// upsert updates the open pull request from r.Head to r.Base or creates
// it. A create the server failed (5xx), or refused because the pull
// request now exists (422), is retried after looking again, so that a
// retry never opens a second one.
func (g *GitHub) upsert(ctx context.Context, r Request, body string) (*github.PullRequest, bool, error) {
	wait := g.retryWait
	for try := 1; ; try++ {
		open, _, err := g.c.PullRequests.List(ctx, g.repo.Owner, g.repo.Name, &github.PullRequestListOptions{
			State: "open",
			Head:  g.repo.Owner + ":" + r.Head,
			Base:  r.Base,
		})
		if err != nil {
			return nil, false, g.wrap("list pull requests", err)
		}
		if len(open) > 0 {
			pr := open[0]
			if pr.GetTitle() == r.Title && pr.GetBody() == body {
				return pr, false, nil
			}
			pr, _, err := g.c.PullRequests.Edit(ctx, g.repo.Owner, g.repo.Name, pr.GetNumber(), &github.PullRequest{
				Title: github.Ptr(r.Title),
				Body:  github.Ptr(body),
			})
			if err != nil {
				return nil, false, g.wrap(fmt.Sprintf("update pull request #%d", open[0].GetNumber()), err)
			}
			return pr, false, nil
		}

		pr, _, err := g.c.PullRequests.Create(ctx, g.repo.Owner, g.repo.Name, &github.NewPullRequest{
			Title: github.Ptr(r.Title),
			Head:  github.Ptr(r.Head),
			Base:  github.Ptr(r.Base),
			Body:  github.Ptr(body),
			Draft: github.Ptr(r.Draft),
		})
		if err == nil {
			return pr, true, nil
		}
		err = g.wrap("create pull request", err)
		if try == attempts {
			return nil, false, err
		}
		switch {
		case alreadyExists(err):
			continue
		case retryable(err):
			if err := sleep(ctx, wait); err != nil {
				return nil, false, err
			}
			wait *= 2
			continue
		}
		return nil, false, err
	}
}

// Get reads pull request number (GET /repos/{o}/{r}/pulls/{n}).
func (g *GitHub) Get(ctx context.Context, number int) (PullRequest, error) {
	pr, _, err := g.c.PullRequests.Get(ctx, g.repo.Owner, g.repo.Name, number)
	if err != nil {
		return PullRequest{}, maskToken(g.wrap(fmt.Sprintf("get pull request #%d", number), err), g.token)
	}
	return gitHubPR(pr), nil
}

// enableAutoMerge asks GitHub to merge the pull request once its checks and
// reviews pass. REST has no call for it: this is the GraphQL mutation
// enablePullRequestAutoMerge. An error GraphQL reports (auto-merge not
// allowed for the repository, a pull request already clean) is a warning.
func (g *GitHub) enableAutoMerge(ctx context.Context, nodeID string) (string, error) {
	const mutation = `mutation EnableAutoMerge($pullRequestId: ID!) {
  enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: MERGE}) {
    pullRequest { autoMergeRequest { enabledAt mergeMethod } }
  }
}`
	req, err := g.c.NewRequest(http.MethodPost, g.graphqlURL, map[string]any{
		"query":     mutation,
		"variables": map[string]any{"pullRequestId": nodeID},
	})
	if err != nil {
		return "", err
	}
	var out struct {
		Errors []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if _, err := g.c.Do(idempotent(ctx), req, &out); err != nil {
		return "", g.wrap("enable auto-merge", err)
	}
	if len(out.Errors) > 0 {
		msgs := make([]string, len(out.Errors))
		for i, e := range out.Errors {
			msgs[i] = e.Message
		}
		return "auto-merge not enabled: " + strings.Join(msgs, "; "), nil
	}
	return "", nil
}

// soft turns a refusal of an optional part of the request (422: a
// reviewer who is not a collaborator, say) into a warning.
func (g *GitHub) soft(what string, err error) (string, error) {
	if err == nil {
		return "", nil
	}
	err = g.wrap(what, err)
	if statusOf(err) == http.StatusUnprocessableEntity {
		return err.Error(), nil
	}
	return "", err
}

// wrap turns go-github's errors into an APIError with the status and
// GitHub's message.
func (g *GitHub) wrap(what string, err error) error {
	var (
		er  *github.ErrorResponse
		rl  *github.RateLimitError
		arl *github.AbuseRateLimitError
	)
	switch {
	case errors.As(err, &rl):
		return fmt.Errorf("%s: %w", what, &APIError{Provider: "github", Status: rl.Response.StatusCode, Message: "rate limit: " + rl.Message})
	case errors.As(err, &arl):
		return fmt.Errorf("%s: %w", what, &APIError{Provider: "github", Status: arl.Response.StatusCode, Message: "secondary rate limit: " + arl.Message})
	case errors.As(err, &er) && er.Response != nil:
		msg := er.Message
		for _, e := range er.Errors {
			if e.Message != "" {
				msg += ": " + e.Message
			}
		}
		return fmt.Errorf("%s: %w", what, &APIError{Provider: "github", Status: er.Response.StatusCode, Message: msg})
	}
	return fmt.Errorf("github: %s: %w", what, err)
}

// alreadyExists reports GitHub's 422 "A pull request already exists for
// owner:branch."
func alreadyExists(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity &&
		strings.Contains(strings.ToLower(ae.Message), "already exists")
}

// reviewers splits logins from "org/team" entries (team slugs).
func reviewers(names []string) github.ReviewersRequest {
	var rr github.ReviewersRequest
	for _, n := range names {
		n = strings.TrimPrefix(strings.TrimSpace(n), "@")
		switch {
		case n == "":
		case strings.Contains(n, "/"):
			rr.TeamReviewers = append(rr.TeamReviewers, n[strings.LastIndex(n, "/")+1:])
		default:
			rr.Reviewers = append(rr.Reviewers, n)
		}
	}
	return rr
}

// missingLabels are the labels the pull request does not carry yet.
func missingLabels(pr *github.PullRequest, labels []string) []string {
	var out []string
	for _, l := range labels {
		if !slices.ContainsFunc(pr.Labels, func(have *github.Label) bool { return strings.EqualFold(have.GetName(), l) }) &&
			!slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, l) }) {
			out = append(out, l)
		}
	}
	return out
}

// missingReviewers are the reviewers and teams not requested yet.
func missingReviewers(pr *github.PullRequest, rr github.ReviewersRequest) github.ReviewersRequest {
	var out github.ReviewersRequest
	for _, r := range rr.Reviewers {
		if !slices.ContainsFunc(pr.RequestedReviewers, func(u *github.User) bool { return strings.EqualFold(u.GetLogin(), r) }) {
			out.Reviewers = append(out.Reviewers, r)
		}
	}
	for _, t := range rr.TeamReviewers {
		if !slices.ContainsFunc(pr.RequestedTeams, func(team *github.Team) bool { return strings.EqualFold(team.GetSlug(), t) }) {
			out.TeamReviewers = append(out.TeamReviewers, t)
		}
	}
	return out
}

func gitHubPR(pr *github.PullRequest) PullRequest {
	state, merge := Open, ""
	switch {
	case pr.GetMerged() || pr.MergedAt != nil:
		// Before the merge, merge_commit_sha is GitHub's test merge; after
		// it, the commit the merge made on the base branch.
		state, merge = Merged, pr.GetMergeCommitSHA()
	case pr.GetState() == "closed":
		state = Closed
	}
	return PullRequest{
		MergeCommit: merge,
		Number:      pr.GetNumber(),
		URL:         pr.GetHTMLURL(),
		Head:        pr.GetHead().GetRef(),
		Base:        pr.GetBase().GetRef(),
		Title:       pr.GetTitle(),
		Body:        pr.GetBody(),
		State:       state,
		Draft:       pr.GetDraft(),
	}
}
