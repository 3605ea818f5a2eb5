package forge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/identity"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/location"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/webapi"
)

// azureBodyLimit is the longest pull request description Azure DevOps
// accepts.
const azureBodyLimit = 4000

// Azure is the pull requests of one Azure Repos repository, through
// azure-devops-go-api's git client.
type Azure struct {
	repo      azureRepo
	token     string
	retryWait time.Duration

	conn *azuredevops.Connection
	hc   *http.Client

	mu    sync.Mutex
	areas map[uuid.UUID]string // resource area → location URL
	git   git.Client
	ident identity.Client
	me    string // the token's identity id
}

var _ Provider = (*Azure)(nil)

func newAzure(repoURL string, o Options) (*Azure, error) {
	repo, err := parseAzureURL(repoURL)
	if err != nil {
		return nil, err
	}
	orgURL := repo.OrgURL
	if o.APIURL != "" {
		orgURL = o.APIURL
	}
	// NewPatConnection sends Basic base64(":"+token), which Azure DevOps
	// takes for a PAT and for System.AccessToken alike.
	conn := azuredevops.NewPatConnection(orgURL, o.Token)
	conn.UserAgent = userAgent
	a := &Azure{repo: repo, token: o.Token, conn: conn, retryWait: o.RetryWait}
	a.hc = withTransport(o.HTTPClient, func(rt http.RoundTripper) http.RoundTripper {
		return &azureErrors{base: &retryTransport{base: rt, wait: o.RetryWait}}
	})
	return a, nil
}

// Name is "azure".
func (a *Azure) Name() string { return "azure" }

// BodyLimit is 4000 characters.
func (a *Azure) BodyLimit() int { return azureBodyLimit }

// client returns the git client, reading on first use where the git area
// is served (GET {org}/_apis/ResourceAreas, then OPTIONS {area}/_apis for
// its routes, which azure-devops-go-api caches). The library's own
// discovery would use a client of its own: this one keeps Options'.
func (a *Azure) client(ctx context.Context) (git.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.git != nil {
		return a.git, nil
	}
	loc, err := a.areaURL(ctx, git.ResourceAreaId)
	if err != nil {
		return nil, err
	}
	a.git = &git.ClientImpl{Client: *a.clientAt(loc)}
	return a.git, nil
}

// clientAt is an azure-devops-go-api client for the service at baseURL,
// normalised as the library's connection does.
func (a *Azure) clientAt(baseURL string) *azuredevops.Client {
	return azuredevops.NewClientWithOptions(a.conn, strings.ToLower(strings.TrimRight(baseURL, "/")), azuredevops.WithHTTPClient(a.hc))
}

// areaURL is where a resource area is served; a server that lists no
// areas (Azure DevOps Server) serves them all at the organization URL.
// Call with a.mu held.
func (a *Azure) areaURL(ctx context.Context, area uuid.UUID) (string, error) {
	if a.areas == nil {
		infos, err := a.clientAt(a.conn.BaseUrl).GetResourceAreas(ctx)
		if err != nil {
			return "", a.wrap("read resource areas", err)
		}
		a.areas = map[uuid.UUID]string{}
		for _, i := range *infos {
			if i.Id != nil && i.LocationUrl != nil {
				a.areas[*i.Id] = *i.LocationUrl
			}
		}
	}
	if len(a.areas) == 0 {
		return a.conn.BaseUrl, nil
	}
	u, ok := a.areas[area]
	if !ok {
		return "", fmt.Errorf("azure: resource area %s is not served by %s", area, a.conn.BaseUrl)
	}
	return u, nil
}

// Ensure finds the active pull request from refs/heads/Head to
// refs/heads/Base (GetPullRequests) and updates its title and description
// (UpdatePullRequest), or creates it (CreatePullRequest, with labels,
// reviewers and isDraft); on an existing one it adds the labels and
// reviewers it lacks. AutoMerge sets auto-complete: autoCompleteSetBy is
// the token's identity (connectionData), completionOptions delete the
// source branch and keep the merge strategy the branch policy allows. A
// reviewer given as a GUID is that identity; another (a unique name,
// email, or "[Project]\Team") is looked up in the identities of the
// organization, and one that does not resolve to exactly one identity is a
// warning. So are labels, reviewers and auto-complete the server refuses
// (400, 404, 409).
func (a *Azure) Ensure(ctx context.Context, r Request) (Result, error) {
	res, err := a.ensure(ctx, r)
	return res, maskToken(err, a.token)
}

func (a *Azure) ensure(ctx context.Context, r Request) (Result, error) {
	if r.Head == "" || r.Base == "" || r.Title == "" {
		return Result{}, errors.New("azure: pull request needs a head, a base and a title")
	}
	c, err := a.client(ctx)
	if err != nil {
		return Result{}, err
	}
	body, warnings := truncate(r.Body, azureBodyLimit)
	res := Result{Warnings: warnings}

	ids, w := a.resolveReviewers(ctx, r.Reviewers)
	res.Warnings = append(res.Warnings, w...)

	pr, created, err := a.upsert(ctx, c, r, body, ids)
	if err != nil {
		return Result{}, err
	}
	if pr.PullRequestId == nil {
		return Result{}, errors.New("azure: the service returned a pull request without an id")
	}
	res.Created = created
	id := *pr.PullRequestId

	if !created {
		w, err := a.addLabels(ctx, c, pr, r.Labels)
		if err != nil {
			return Result{}, err
		}
		res.Warnings = append(res.Warnings, w...)
		w1, err := a.addReviewers(ctx, c, pr, ids)
		if err != nil {
			return Result{}, err
		}
		if w1 != "" {
			res.Warnings = append(res.Warnings, w1)
		}
	}
	if r.AutoMerge && (pr.AutoCompleteSetBy == nil || pr.AutoCompleteSetBy.Id == nil) {
		updated, w, err := a.autoComplete(ctx, c, id)
		switch {
		case err != nil:
			return Result{}, err
		case w != "":
			res.Warnings = append(res.Warnings, w)
		default:
			pr = updated
		}
	}
	res.PullRequest = a.pullRequest(pr)
	return res, nil
}

func (a *Azure) upsert(ctx context.Context, c git.Client, r Request, body string, reviewers []string) (*git.GitPullRequest, bool, error) {
	src, tgt := "refs/heads/"+r.Head, "refs/heads/"+r.Base
	for try := 1; ; try++ {
		open, err := c.GetPullRequests(ctx, git.GetPullRequestsArgs{
			RepositoryId: &a.repo.Name,
			Project:      &a.repo.Project,
			SearchCriteria: &git.GitPullRequestSearchCriteria{
				SourceRefName: &src,
				TargetRefName: &tgt,
				Status:        &git.PullRequestStatusValues.Active,
			},
		})
		if err != nil {
			return nil, false, a.wrap("list pull requests", err)
		}
		if len(*open) > 0 {
			id := (*open)[0].PullRequestId
			// The list cuts descriptions to 400 characters: always update.
			pr, err := c.UpdatePullRequest(ctx, git.UpdatePullRequestArgs{
				RepositoryId:  &a.repo.Name,
				Project:       &a.repo.Project,
				PullRequestId: id,
				GitPullRequestToUpdate: &git.GitPullRequest{
					Title:       &r.Title,
					Description: &body,
				},
			})
			if err != nil {
				return nil, false, a.wrap(fmt.Sprintf("update pull request %d", *id), err)
			}
			return pr, false, nil
		}

		create := &git.GitPullRequest{
			SourceRefName: &src,
			TargetRefName: &tgt,
			Title:         &r.Title,
			Description:   &body,
			IsDraft:       &r.Draft,
		}
		if len(r.Labels) > 0 {
			labels := make([]core.WebApiTagDefinition, len(r.Labels))
			for i := range r.Labels {
				labels[i] = core.WebApiTagDefinition{Name: &r.Labels[i]}
			}
			create.Labels = &labels
		}
		if len(reviewers) > 0 {
			rv := make([]git.IdentityRefWithVote, len(reviewers))
			for i := range reviewers {
				rv[i] = git.IdentityRefWithVote{Id: &reviewers[i]}
			}
			create.Reviewers = &rv
		}
		pr, err := c.CreatePullRequest(ctx, git.CreatePullRequestArgs{
			RepositoryId:           &a.repo.Name,
			Project:                &a.repo.Project,
			GitPullRequestToCreate: create,
		})
		if err == nil {
			return pr, true, nil
		}
		err = a.wrap("create pull request", err)
		if try == attempts {
			return nil, false, err
		}
		switch {
		case statusOf(err) == http.StatusConflict: // TF401179: it exists now
			continue
		case retryable(err):
			if err := sleep(ctx, a.retryWait<<(try-1)); err != nil {
				return nil, false, err
			}
			continue
		}
		return nil, false, err
	}
}

// Get reads pull request number (GetPullRequestById): completed is
// Merged, abandoned Closed, active Open.
func (a *Azure) Get(ctx context.Context, number int) (PullRequest, error) {
	c, err := a.client(ctx)
	if err != nil {
		return PullRequest{}, maskToken(err, a.token)
	}
	pr, err := c.GetPullRequestById(ctx, git.GetPullRequestByIdArgs{PullRequestId: &number, Project: &a.repo.Project})
	if err != nil {
		return PullRequest{}, maskToken(a.wrap(fmt.Sprintf("get pull request %d", number), err), a.token)
	}
	return a.pullRequest(pr), nil
}

func (a *Azure) addLabels(ctx context.Context, c git.Client, pr *git.GitPullRequest, labels []string) ([]string, error) {
	have := map[string]bool{}
	if pr.Labels != nil {
		for _, l := range *pr.Labels {
			if l.Name != nil {
				have[strings.ToLower(*l.Name)] = true
			}
		}
	}
	var warnings []string
	for _, l := range labels {
		if have[strings.ToLower(l)] {
			continue
		}
		_, err := c.CreatePullRequestLabel(idempotent(ctx), git.CreatePullRequestLabelArgs{
			Label:         &core.WebApiCreateTagRequestData{Name: &l},
			RepositoryId:  &a.repo.Name,
			Project:       &a.repo.Project,
			PullRequestId: pr.PullRequestId,
		})
		if w, err := a.soft(fmt.Sprintf("add label %q", l), err); err != nil {
			return nil, err
		} else if w != "" {
			warnings = append(warnings, w)
		}
	}
	return warnings, nil
}

func (a *Azure) addReviewers(ctx context.Context, c git.Client, pr *git.GitPullRequest, ids []string) (string, error) {
	have := map[string]bool{}
	if pr.Reviewers != nil {
		for _, r := range *pr.Reviewers {
			if r.Id != nil {
				have[strings.ToLower(*r.Id)] = true
			}
		}
	}
	var add []webapi.IdentityRef
	for i := range ids {
		if !have[strings.ToLower(ids[i])] {
			add = append(add, webapi.IdentityRef{Id: &ids[i]})
		}
	}
	if len(add) == 0 {
		return "", nil
	}
	_, err := c.CreatePullRequestReviewers(idempotent(ctx), git.CreatePullRequestReviewersArgs{
		Reviewers:     &add,
		RepositoryId:  &a.repo.Name,
		Project:       &a.repo.Project,
		PullRequestId: pr.PullRequestId,
	})
	return a.soft("add reviewers", err)
}

// autoComplete turns auto-complete on: the pull request completes when its
// policies pass.
func (a *Azure) autoComplete(ctx context.Context, c git.Client, id int) (*git.GitPullRequest, string, error) {
	me, err := a.identity(ctx)
	if err != nil {
		if statusOf(err) != 0 && !errors.Is(err, ErrAuth) {
			return nil, "auto-complete not set: " + err.Error(), nil
		}
		return nil, "", err
	}
	pr, err := c.UpdatePullRequest(ctx, git.UpdatePullRequestArgs{
		RepositoryId:  &a.repo.Name,
		Project:       &a.repo.Project,
		PullRequestId: &id,
		GitPullRequestToUpdate: &git.GitPullRequest{
			AutoCompleteSetBy: &webapi.IdentityRef{Id: &me},
			CompletionOptions: &git.GitPullRequestCompletionOptions{
				DeleteSourceBranch: ptr(true),
			},
		},
	})
	if w, err := a.soft("set auto-complete", err); err != nil || w != "" {
		return nil, w, err
	}
	return pr, "", nil
}

// identity is the id of the identity the token authenticates
// (GET {org}/_apis/connectionData).
func (a *Azure) identity(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.me != "" {
		return a.me, nil
	}
	lc := &location.ClientImpl{Client: *a.clientAt(a.conn.BaseUrl)}
	cd, err := lc.GetConnectionData(ctx, location.GetConnectionDataArgs{})
	if err != nil {
		return "", a.wrap("read the token's identity", err)
	}
	if cd.AuthenticatedUser == nil || cd.AuthenticatedUser.Id == nil {
		return "", errors.New("azure: read the token's identity: connectionData has no authenticated user")
	}
	a.me = cd.AuthenticatedUser.Id.String()
	return a.me, nil
}

// resolveReviewers returns the identity ids of the reviewers: a GUID as
// it is, anything else looked up (ReadIdentities, searchFilter General).
func (a *Azure) resolveReviewers(ctx context.Context, names []string) ([]string, []string) {
	var ids, warnings []string
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[strings.ToLower(id)] {
			seen[strings.ToLower(id)] = true
			ids = append(ids, id)
		}
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, err := uuid.Parse(n); err == nil {
			add(n)
			continue
		}
		id, err := a.lookup(ctx, n)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("reviewer %q not added: %v", n, maskToken(err, a.token)))
			continue
		}
		add(id)
	}
	return ids, warnings
}

func (a *Azure) lookup(ctx context.Context, name string) (string, error) {
	a.mu.Lock()
	if a.ident == nil {
		loc, err := a.areaURL(ctx, identity.ResourceAreaId)
		if err != nil {
			a.mu.Unlock()
			return "", err
		}
		a.ident = &identity.ClientImpl{Client: *a.clientAt(loc)}
	}
	ic := a.ident
	a.mu.Unlock()

	found, err := ic.ReadIdentities(ctx, identity.ReadIdentitiesArgs{
		SearchFilter:    ptr("General"),
		FilterValue:     &name,
		QueryMembership: &identity.QueryMembershipValues.None,
	})
	if err != nil {
		return "", a.wrap("look up identity", err)
	}
	var ids []string
	for _, i := range *found {
		if i.Id != nil {
			ids = append(ids, i.Id.String())
		}
	}
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
		return "", errors.New("no such identity")
	}
	return "", fmt.Errorf("%d identities match", len(ids))
}

func (a *Azure) pullRequest(pr *git.GitPullRequest) PullRequest {
	out := PullRequest{
		Head:  strings.TrimPrefix(deref(pr.SourceRefName), "refs/heads/"),
		Base:  strings.TrimPrefix(deref(pr.TargetRefName), "refs/heads/"),
		Title: deref(pr.Title),
		Body:  deref(pr.Description),
		Draft: pr.IsDraft != nil && *pr.IsDraft,
		State: Open,
	}
	if pr.PullRequestId != nil {
		out.Number = *pr.PullRequestId
		out.URL = a.repo.WebURL(out.Number)
	}
	if pr.Status != nil {
		switch *pr.Status {
		case git.PullRequestStatusValues.Completed:
			out.State = Merged
			if pr.LastMergeCommit != nil {
				out.MergeCommit = deref(pr.LastMergeCommit.CommitId)
			}
		case git.PullRequestStatusValues.Abandoned:
			out.State = Closed
		}
	}
	return out
}

// soft turns a refusal of an optional part of the request into a warning:
// 400 (bad value), 404 (no such identity), 409 (conflict).
func (a *Azure) soft(what string, err error) (string, error) {
	if err == nil {
		return "", nil
	}
	err = a.wrap(what, err)
	switch statusOf(err) {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict:
		return maskToken(err, a.token).Error(), nil
	}
	return "", err
}

// wrap turns azure-devops-go-api's errors (WrappedError, by value or
// pointer) into an APIError with the status and the service's message.
func (a *Azure) wrap(what string, err error) error {
	var (
		ae  *APIError
		we  azuredevops.WrappedError
		pwe *azuredevops.WrappedError
	)
	switch {
	case errors.As(err, &ae):
		return fmt.Errorf("%s: %w", what, ae)
	case errors.As(err, &pwe):
		we = *pwe
	case !errors.As(err, &we):
		return fmt.Errorf("azure: %s: %w", what, err)
	}
	if we.StatusCode == nil {
		return fmt.Errorf("azure: %s: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, &APIError{Provider: "azure", Status: *we.StatusCode, Message: deref(we.Message)})
}

// azureErrors reads the error responses azure-devops-go-api cannot: it
// decodes every error body as JSON, so the HTML sign-in page Azure DevOps
// answers a refused token with (401, or 203 without
// X-TFS-FedAuthRedirect) comes out as "invalid character '<'", with no
// status. A refused token, and any error that is not JSON, becomes an
// APIError here.
type azureErrors struct {
	base http.RoundTripper
}

func (t *azureErrors) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	ct := resp.Header.Get("Content-Type")
	isJSON := strings.Contains(ct, "json")
	refused := resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
		(resp.StatusCode == http.StatusNonAuthoritativeInfo && !isJSON)
	if !refused && (resp.StatusCode < 400 || isJSON || strings.Contains(ct, "text/plain")) {
		return resp, nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	status := resp.StatusCode
	if status == http.StatusNonAuthoritativeInfo {
		status = http.StatusUnauthorized // the sign-in page
	}
	return nil, &APIError{Provider: "azure", Status: status, Message: azureMessage(data, isJSON)}
}

// azureMessage is the message of an error body: its "message" field, or
// the plain text of a short non-HTML body.
func azureMessage(data []byte, isJSON bool) string {
	if isJSON {
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &m) == nil && m.Message != "" {
			return m.Message
		}
		return ""
	}
	s := string(bytes.TrimSpace(data))
	if s == "" || strings.HasPrefix(s, "<") || len(s) > 300 {
		return ""
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
