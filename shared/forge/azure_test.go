package forge_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/forgetest"
	"github.com/gitship/gitship/shared/forge"
)

const adoToken = "adoPATs3cret52chars"

var (
	jane = forgetest.AzureIdentity{ID: "3b0a1c9e-7f0d-4b8e-9d55-2f1e0c6a7b11", UniqueName: "jane@example.com", DisplayName: "Jane Doe"}
	team = forgetest.AzureIdentity{ID: "6e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", UniqueName: "[Web]\\Web Team", DisplayName: "[Web]\\Web Team"}
)

func newAzure(t *testing.T, cfg forgetest.AzureConfig) (*forgetest.Azure, forge.Provider) {
	t.Helper()
	if cfg.Org == "" {
		cfg.Org, cfg.Project, cfg.Repo = "Contoso", "Web Platform", "gitops"
	}
	if cfg.Token == "" {
		cfg.Token = adoToken
	}
	cfg.Identities = append(cfg.Identities, jane, team)
	fake := forgetest.NewAzure(t, cfg)
	return fake, newProvider(t, "", fake.RepoURL(), fast(adoToken, fake.OrgURL()))
}

func TestAzureDiscovery(t *testing.T) {
	fake, p := newAzure(t, forgetest.AzureConfig{})
	if _, err := p.Ensure(context.Background(), forge.Request{Head: "h", Base: "main", Title: "t"}); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	var got []string
	for _, r := range reqs[:min(3, len(reqs))] {
		got = append(got, r.Method+" "+strings.ToLower(r.Path))
	}
	// The organization URL is lower-cased by the client, as the service
	// does not care.
	want := []string{"OPTIONS /contoso/_apis", "GET /contoso/_apis/resourceareas", "GET /contoso/web platform/_apis/git/repositories/gitops/pullrequests"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("first requests = %q, want %q", got, want)
	}
	for _, r := range reqs {
		if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "Basic ") {
			t.Errorf("%s: Authorization %q, want Basic", r, auth)
		}
	}
}

func TestAzureEnsureSendsLabelsReviewersDraftAutoComplete(t *testing.T) {
	fake, p := newAzure(t, forgetest.AzureConfig{})
	const guid = "a1b2c3d4-0000-4000-8000-000000000001"
	res, err := p.Ensure(context.Background(), forge.Request{
		Head: "gitship/web-prod", Base: "main", Title: "deploy", Body: "b",
		Labels:    []string{"gitship", "env:prod"},
		Reviewers: []string{guid, "jane@example.com", `[Web]\Web Team`, "nobody@example.com"},
		Draft:     true,
		AutoMerge: true,
	})
	if err != nil {
		t.Fatalf("Ensure() error = %v", err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "nobody@example.com") {
		t.Errorf("Warnings = %q; want one for the reviewer that does not resolve", res.Warnings)
	}

	lookups := fake.Calls(http.MethodGet, "/vssps/contoso/_apis/identities")
	if len(lookups) != 3 || lookups[0].Query.Get("searchFilter") != "General" || lookups[0].Query.Get("filterValue") != "jane@example.com" {
		t.Errorf("identity lookups = %v; want 3, searchFilter=General by name", lookups)
	}

	creates := fake.Calls(http.MethodPost, "/_apis/git/repositories/gitops/pullrequests")
	if len(creates) != 1 {
		t.Fatalf("create calls = %v, want 1", creates)
	}
	wantCreate := map[string]any{
		"sourceRefName": "refs/heads/gitship/web-prod",
		"targetRefName": "refs/heads/main",
		"title":         "deploy",
		"description":   "b",
		"isDraft":       true,
		"labels":        []any{map[string]any{"name": "gitship"}, map[string]any{"name": "env:prod"}},
		"reviewers":     []any{map[string]any{"id": guid}, map[string]any{"id": jane.ID}, map[string]any{"id": team.ID}},
	}
	if got := creates[0].JSON(); !reflect.DeepEqual(got, wantCreate) {
		t.Errorf("create body = %v\nwant %v", got, wantCreate)
	}

	if len(fake.Calls(http.MethodGet, "/contoso/_apis/connectiondata")) != 1 {
		t.Errorf("want the token's identity read from connectionData")
	}
	updates := fake.Calls(http.MethodPatch, "/pullrequests/1")
	wantAuto := map[string]any{
		"autoCompleteSetBy": map[string]any{"id": fake.User().ID},
		"completionOptions": map[string]any{"deleteSourceBranch": true},
	}
	if len(updates) != 1 || !reflect.DeepEqual(updates[0].JSON(), wantAuto) {
		t.Fatalf("update calls = %v; want one setting %v", updates, wantAuto)
	}

	pr, _ := fake.PR(1)
	if pr.AutoCompleteSetBy != fake.User().ID || !pr.IsDraft ||
		!reflect.DeepEqual(pr.Labels, []string{"gitship", "env:prod"}) ||
		!reflect.DeepEqual(pr.Reviewers, []string{guid, jane.ID, team.ID}) {
		t.Errorf("fake PR = %+v; want auto-complete by the token's identity, draft, labels and reviewers", pr)
	}
	if !res.PullRequest.Draft {
		t.Errorf("PullRequest.Draft = false, want true")
	}
}

func TestAzureEnsureAddsMissingLabelsAndReviewers(t *testing.T) {
	ctx := context.Background()
	fake, p := newAzure(t, forgetest.AzureConfig{})
	req := forge.Request{Head: "h", Base: "main", Title: "t", Labels: []string{"gitship"}, Reviewers: []string{jane.ID}, AutoMerge: true}
	if _, err := p.Ensure(ctx, req); err != nil {
		t.Fatal(err)
	}
	req.Labels = append(req.Labels, "env:prod")
	req.Reviewers = append(req.Reviewers, "[Web]\\Web Team")
	res, err := p.Ensure(ctx, req)
	if err != nil || res.Created || len(res.Warnings) != 0 {
		t.Fatalf("second Ensure() = %+v, %v", res, err)
	}
	labels := fake.Calls(http.MethodPost, "/pullrequests/1/labels")
	if len(labels) != 1 || !reflect.DeepEqual(labels[0].JSON(), map[string]any{"name": "env:prod"}) {
		t.Errorf("label calls = %v; want one adding env:prod", labels)
	}
	revs := fake.Calls(http.MethodPost, "/pullrequests/1/reviewers")
	if len(revs) != 1 || !reflect.DeepEqual(revs[0].JSON(), []any{map[string]any{"id": team.ID}}) {
		t.Errorf("reviewer calls = %v; want one adding the team", revs)
	}
	// Auto-complete is on already: not set again.
	if n := len(fake.Calls(http.MethodPatch, "/pullrequests/1")); n != 2 {
		t.Errorf("PATCH calls = %d; want 2 (auto-complete once, then the update)", n)
	}
	pr, _ := fake.PR(1)
	if !reflect.DeepEqual(pr.Labels, []string{"gitship", "env:prod"}) || !reflect.DeepEqual(pr.Reviewers, []string{jane.ID, team.ID}) {
		t.Errorf("fake PR = %+v", pr)
	}
}

func TestAzureBodyLimit(t *testing.T) {
	fake, p := newAzure(t, forgetest.AzureConfig{})
	res, err := p.Ensure(context.Background(), forge.Request{Head: "h", Base: "main", Title: "t", Body: strings.Repeat("x", 5000)})
	if err != nil || len(res.Warnings) != 1 {
		t.Fatalf("Ensure() = %+v, %v; want a warning about the cut", res, err)
	}
	if pr, _ := fake.PR(1); len(pr.Description) != 4000 {
		t.Errorf("description is %d characters, want 4000", len(pr.Description))
	}
}

// TestAzureGetByID reads a pull request with one call, by id alone
// (GetPullRequestById, the project's route), and the service's own 404.
func TestAzureGetByID(t *testing.T) {
	ctx := context.Background()
	fake, p := newAzure(t, forgetest.AzureConfig{})
	for _, h := range []string{"a", "b"} {
		if _, err := p.Ensure(ctx, forge.Request{Head: h, Base: "main", Title: h}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Get(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Calls(http.MethodGet, "/web platform/_apis/git/pullrequests/2")); n != 1 {
		t.Errorf("GetPullRequestById calls for 2 = %d, want 1", n)
	}
	if _, err := p.Get(ctx, 9); !strings.Contains(fmt.Sprint(err), "TF401180") {
		t.Errorf("Get(9) error = %v; want TF401180", err)
	}
}
