package forge_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/forgetest"
	"github.com/gitship/gitship/shared/forge"
)

// recorded is what both forge fakes record and inject alike.
type recorded interface {
	FailNext(n, status int)
	Inject(forgetest.Fault)
	Requests() []forgetest.Request
	Calls(method, suffix string) []forgetest.Request
}

// onFake is a Provider on a forge fake and what a test does on the fake's
// side to pull request n.
type onFake struct {
	p     forge.Provider
	fake  recorded
	prs   func() int         // how many pull requests the fake holds
	url   func(n int) string // the pull request's web URL
	gets  func(n int) int    // the provider's reads of it so far
	merge func(n int) error  // GitHub's merge button, Azure's complete
	close func(n int) error  // closed without merging: GitHub's close, Azure's abandon
	body  func(n int) string // the pull request's body (Azure's description)
}

// newProvider is forge.New(kind, repoURL, o) on a fake, failing t on an
// error.
func newProvider(t *testing.T, kind, repoURL string, o forge.Options) forge.Provider {
	t.Helper()
	p, err := forge.New(kind, repoURL, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// authCase is a token a forge refuses to write with, and what it answers.
type authCase struct {
	name, token string
	status      int
	message     string // in the service's answer, kept in the error
}

// providers are the forges a behaviour common to both is tested on.
var providers = []struct {
	name  string
	start func(*testing.T) onFake
	// startAuth starts a fake that takes its own token for everything and
	// a read-only token for reads, with a provider on it sending token.
	startAuth func(t *testing.T, token string) onFake
	refused   []authCase
	// first is the method of a provider's first request; creates is the
	// path suffix of its create call.
	first, creates string
	// lost is the status a gateway answers a create that went through
	// with; down the status of a server that stays down.
	lost, down int
	// listQuery is what a provider asks the list of pull requests for
	// one head; accept, when set, its Accept header; edit the body of its
	// update of a pull request's title and body.
	listQuery map[string]string
	accept    string
	edit      func(title, body string) map[string]any
	// alwaysUpdates: the provider cannot tell an unchanged body from the
	// list (Azure's cuts descriptions to 400 characters) and updates anyway.
	alwaysUpdates bool
}{
	{
		name: "github",
		start: func(t *testing.T) onFake {
			return onGitHub(newGitHub(t, forgetest.GitHubConfig{}))
		},
		startAuth: func(t *testing.T, token string) onFake {
			fake := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: ghToken, ReadOnlyToken: "ghs_readOnly"})
			return onGitHub(fake, newProvider(t, "github", fake.RepoURL(), fast(token, fake.URL())))
		},
		refused: []authCase{
			{"wrong token", "ghp_wr0ngT0ken", 401, "Bad credentials"},
			{"read-only token", "ghs_readOnly", 403, "Resource not accessible by integration"},
		},
		first: http.MethodGet, creates: "/pulls",
		lost: http.StatusBadGateway, down: http.StatusBadGateway,
		listQuery: map[string]string{"head": "acme:gitship/web-prod", "base": "main", "state": "open"},
		edit:      func(title, body string) map[string]any { return map[string]any{"title": title, "body": body} },
	},
	{
		name: "azure",
		start: func(t *testing.T) onFake {
			return onAzure(newAzure(t, forgetest.AzureConfig{}))
		},
		startAuth: func(t *testing.T, token string) onFake {
			fake := forgetest.NewAzure(t, forgetest.AzureConfig{Org: "contoso", Project: "web", Repo: "gitops", Token: adoToken, ReadOnlyToken: "readOnlyPAT"})
			return onAzure(fake, newProvider(t, "azure", fake.RepoURL(), fast(token, fake.OrgURL())))
		},
		refused: []authCase{
			{"wrong token", "wr0ngPATvalue", 401, "Unauthorized"},
			{"read-only token", "readOnlyPAT", 403, "TF401027"},
		},
		first: http.MethodOptions, creates: "/pullrequests",
		lost: http.StatusGatewayTimeout, down: http.StatusServiceUnavailable,
		listQuery: map[string]string{"searchCriteria.sourceRefName": "refs/heads/gitship/web-prod",
			"searchCriteria.targetRefName": "refs/heads/main", "searchCriteria.status": "active"},
		// The api-version negotiated from the locations.
		accept:        "application/json;api-version=7.1-preview.1",
		edit:          func(title, body string) map[string]any { return map[string]any{"title": title, "description": body} },
		alwaysUpdates: true,
	},
}

func onGitHub(fake *forgetest.GitHub, p forge.Provider) onFake {
	return onFake{
		p:     p,
		fake:  fake,
		prs:   func() int { return len(fake.PRs()) },
		url:   func(n int) string { return "https://github.com/acme/gitops/pull/" + strconv.Itoa(n) },
		gets:  func(n int) int { return len(fake.Calls(http.MethodGet, "/pulls/"+strconv.Itoa(n))) },
		merge: func(n int) error { return fake.MergeAs(n, mergeCommit) },
		close: fake.Close,
		body:  func(n int) string { return fake.PRs()[n-1].Body },
	}
}

func onAzure(fake *forgetest.Azure, p forge.Provider) onFake {
	return onFake{
		p:    p,
		fake: fake,
		prs:  func() int { return len(fake.PRs()) },
		url: func(n int) string {
			return "https://dev.azure.com/Contoso/Web%20Platform/_git/gitops/pullrequest/" + strconv.Itoa(n)
		},
		gets:  func(n int) int { return len(fake.Calls(http.MethodGet, "/_apis/git/pullrequests/"+strconv.Itoa(n))) },
		merge: func(n int) error { return fake.CompleteAs(n, mergeCommit) },
		close: fake.Abandon,
		body:  func(n int) string { return fake.PRs()[n-1].Description },
	}
}

// TestEnsureOnePullRequestPerHead: Ensure opens a pull request for a head,
// then updates that one (a body over the 400 characters Azure's list cuts
// the description to, too) instead of opening another, and writes nothing
// when nothing changed.
func TestEnsureOnePullRequestPerHead(t *testing.T) {
	ctx := context.Background()
	for _, provider := range providers {
		t.Run(provider.name, func(t *testing.T) {
			f := provider.start(t)
			req := forge.Request{Head: "gitship/web-prod", Base: "main", Title: "web: deploy 1.2.0 to prod", Body: "first"}
			res, err := f.p.Ensure(ctx, req)
			if err != nil {
				t.Fatalf("Ensure() error = %v", err)
			}
			pr := forge.PullRequest{Number: 1, URL: f.url(1), Head: req.Head, Base: "main", Title: req.Title, Body: "first", State: forge.Open}
			if !res.Created || res.PullRequest != pr {
				t.Fatalf("Ensure() = %+v; want created %+v", res, pr)
			}

			req.Body = strings.Repeat("long body ", 60)
			res, err = f.p.Ensure(ctx, req)
			if err != nil {
				t.Fatalf("second Ensure() error = %v", err)
			}
			if res.Created || res.PullRequest.Number != 1 || res.PullRequest.Body != req.Body {
				t.Fatalf("second Ensure() = %+v; want #1 updated with the new body", res)
			}
			if f.prs() != 1 || f.body(1) != req.Body {
				t.Fatalf("fake holds %d pull requests, #1 with body %q; want one with the new body", f.prs(), f.body(1))
			}

			lists := f.fake.Calls(http.MethodGet, provider.creates)
			if len(lists) != 2 {
				t.Fatalf("list calls = %v, want 2", lists)
			}
			for k, v := range provider.listQuery {
				if got := lists[0].Query.Get(k); got != v {
					t.Errorf("list query %s = %q, want %q (query %v)", k, got, v, lists[0].Query)
				}
			}
			if accept := lists[0].Header.Get("Accept"); provider.accept != "" && accept != provider.accept {
				t.Errorf("Accept = %q, want %q", accept, provider.accept)
			}
			edits := f.fake.Calls(http.MethodPatch, provider.creates+"/1")
			if len(edits) != 1 || !reflect.DeepEqual(edits[0].JSON(), provider.edit(req.Title, req.Body)) {
				t.Fatalf("update calls = %v; want one with %v", edits, provider.edit(req.Title, req.Body))
			}

			// Nothing changed: nothing to write, where the provider can tell.
			if _, err := f.p.Ensure(ctx, req); err != nil {
				t.Fatal(err)
			}
			want := 1
			if provider.alwaysUpdates {
				want = 2
			}
			if n := len(f.fake.Calls(http.MethodPatch, provider.creates+"/1")); n != want {
				t.Errorf("update calls after an unchanged Ensure = %d, want %d", n, want)
			}
			if n := len(f.fake.Calls(http.MethodPost, provider.creates)); n != 1 {
				t.Errorf("create calls = %d, want 1", n)
			}
		})
	}
}

// mergeCommit is the commit the fakes' merges make on the base branch.
const mergeCommit = "5f3c0b9a2d7e41c68f0a9b1e2d3c4f5a6b7c8d9e"

func TestWaitMerged(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		finish  func(onFake) error // nil: the pull request stays open
		timeout time.Duration
		want    error
	}{
		{"merged", func(f onFake) error { return f.merge(1) }, 10 * time.Second, nil},
		{"closed", func(f onFake) error { return f.close(1) }, 10 * time.Second, forge.ErrClosed},
		{"timeout", nil, 50 * time.Millisecond, forge.ErrTimeout},
	}
	for _, provider := range providers {
		for _, tt := range tests {
			t.Run(provider.name+"/"+tt.name, func(t *testing.T) {
				f := provider.start(t)
				if _, err := f.p.Ensure(ctx, forge.Request{Head: "h", Base: "main", Title: "t"}); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				if tt.finish != nil {
					// Finish once WaitMerged has seen the pull request open twice.
					go func() {
						for f.gets(1) < 2 {
							time.Sleep(time.Millisecond)
						}
						done <- tt.finish(f)
					}()
				}
				pr, err := forge.WaitMerged(ctx, f.p, 1, tt.timeout, 2*time.Millisecond)
				if tt.finish != nil {
					if ferr := <-done; ferr != nil {
						t.Fatal(ferr)
					}
				}
				if !errors.Is(err, tt.want) || (tt.want == nil && (pr.State != forge.Merged || pr.MergeCommit != mergeCommit)) {
					t.Fatalf("WaitMerged() = %+v, %v; want %v (merged as %s)", pr, err, tt.want, mergeCommit)
				}
				if err != nil && !strings.Contains(err.Error(), f.url(1)) {
					t.Errorf("error %q: want the pull request's URL %s", err, f.url(1))
				}
				if tt.want == forge.ErrTimeout && !strings.Contains(err.Error(), "50ms") {
					t.Errorf("error %q: want the timeout", err)
				}
			})
		}
	}
}

// TestGetStates reads an open, a merged and a closed pull request, and
// one that does not exist.
func TestGetStates(t *testing.T) {
	ctx := context.Background()
	for _, provider := range providers {
		t.Run(provider.name, func(t *testing.T) {
			f := provider.start(t)
			for _, h := range []string{"a", "b", "c"} {
				if _, err := f.p.Ensure(ctx, forge.Request{Head: h, Base: "main", Title: h}); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.merge(2); err != nil {
				t.Fatal(err)
			}
			if err := f.close(3); err != nil {
				t.Fatal(err)
			}
			for n, want := range map[int]forge.State{1: forge.Open, 2: forge.Merged, 3: forge.Closed} {
				pr, err := f.p.Get(ctx, n)
				if err != nil || pr.State != want || pr.Number != n || pr.URL != f.url(n) {
					t.Errorf("Get(%d) = %+v, %v; want state %s at %s", n, pr, err, want, f.url(n))
				}
			}
			_, err := f.p.Get(ctx, 9)
			var ae *forge.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || errors.Is(err, forge.ErrAuth) {
				t.Errorf("Get(9) error = %v; want HTTP 404, not ErrAuth", err)
			}
		})
	}
}

// TestAuth sends a wrong and a read-only token: ErrAuth with the status,
// the provider and the service's message, never the token, and nothing
// written.
func TestAuth(t *testing.T) {
	for _, provider := range providers {
		for _, tt := range provider.refused {
			t.Run(provider.name+"/"+tt.name, func(t *testing.T) {
				f := provider.startAuth(t, tt.token)
				_, err := f.p.Ensure(context.Background(), forge.Request{Head: "h", Base: "main", Title: "t"})
				var ae *forge.APIError
				if !errors.Is(err, forge.ErrAuth) || !errors.As(err, &ae) || ae.Status != tt.status {
					t.Fatalf("Ensure() error = %v; want ErrAuth with status %d", err, tt.status)
				}
				if msg := err.Error(); strings.Contains(msg, tt.token) || !strings.Contains(msg, tt.message) || !strings.Contains(msg, provider.name) {
					t.Errorf("error %q: want the provider and %q, and not the token", msg, tt.message)
				}
				if f.prs() != 0 {
					t.Errorf("fake has pull requests after a refused token")
				}
			})
		}
	}
}

// TestRetries fails requests at the gateway: a provider retries them,
// finds a create whose answer was lost instead of opening a second pull
// request, and gives up after 3 attempts with the status.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	req := forge.Request{Head: "h", Base: "main", Title: "t", Body: "b"}
	for _, provider := range providers {
		t.Run(provider.name+"/502 on the first request", func(t *testing.T) {
			f := provider.start(t)
			f.fake.FailNext(1, http.StatusBadGateway)
			res, err := f.p.Ensure(ctx, req)
			if err != nil || !res.Created {
				t.Fatalf("Ensure() = %+v, %v; want created after a retry", res, err)
			}
			reqs := f.fake.Requests()
			if !reqs[0].Injected || reqs[0].Method != provider.first || reqs[1].Method != reqs[0].Method || reqs[1].Path != reqs[0].Path {
				t.Errorf("requests = %v; want the failed %s, then the same again", reqs, provider.first)
			}
		})

		t.Run(fmt.Sprintf("%s/create answered %d after it went through", provider.name, provider.lost), func(t *testing.T) {
			f := provider.start(t)
			f.fake.Inject(forgetest.Fault{Method: http.MethodPost, Status: provider.lost, AfterServe: true})
			res, err := f.p.Ensure(ctx, req)
			if err != nil || res.PullRequest.Number != 1 {
				t.Fatalf("Ensure() = %+v, %v; want #1", res, err)
			}
			if n := f.prs(); n != 1 {
				t.Fatalf("fake holds %d pull requests, want 1: a retry must not open a second", n)
			}
			if n := len(f.fake.Calls(http.MethodPost, provider.creates)); n != 0 {
				t.Errorf("served creates = %d, want 0 besides the lost one (the retry finds it)", n)
			}
		})

		t.Run(provider.name+"/create failed 503", func(t *testing.T) {
			f := provider.start(t)
			f.fake.Inject(forgetest.Fault{Method: http.MethodPost, Status: http.StatusServiceUnavailable})
			res, err := f.p.Ensure(ctx, req)
			if err != nil || !res.Created || f.prs() != 1 {
				t.Fatalf("Ensure() = %+v, %v with %d PRs; want one created", res, err, f.prs())
			}
		})

		t.Run(provider.name+"/server down", func(t *testing.T) {
			f := provider.start(t)
			f.fake.FailNext(10, provider.down)
			_, err := f.p.Ensure(ctx, req)
			var ae *forge.APIError
			if !errors.As(err, &ae) || ae.Status != provider.down || errors.Is(err, forge.ErrAuth) {
				t.Fatalf("Ensure() error = %v; want HTTP %d, not ErrAuth", err, provider.down)
			}
			if n := len(f.fake.Requests()); n != 3 {
				t.Errorf("requests = %d, want 3 attempts", n)
			}
		})
	}
}
