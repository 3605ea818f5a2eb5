package forge_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/forgetest"
	"github.com/gitship/gitship/shared/forge"
)

const ghToken = "ghp_s3cretT0ken"

func newGitHub(t *testing.T, cfg forgetest.GitHubConfig) (*forgetest.GitHub, forge.Provider) {
	t.Helper()
	if cfg.Owner == "" {
		cfg.Owner, cfg.Repo = "acme", "gitops"
	}
	if cfg.Token == "" {
		cfg.Token = ghToken
	}
	fake := forgetest.NewGitHub(t, cfg)
	return fake, newProvider(t, "", fake.RepoURL(), fast(ghToken, fake.URL()))
}

func TestGitHubEnsureSendsLabelsReviewersDraftAutoMerge(t *testing.T) {
	fake, p := newGitHub(t, forgetest.GitHubConfig{AllowAutoMerge: true})
	res, err := p.Ensure(context.Background(), forge.Request{
		Head: "gitship/web-prod", Base: "main", Title: "deploy", Body: "b",
		Labels:    []string{"gitship", "env:prod"},
		Reviewers: []string{"alice", "acme/platform"},
		Draft:     true,
		AutoMerge: true,
	})
	if err != nil || len(res.Warnings) != 0 {
		t.Fatalf("Ensure() = %+v, %v; want no error, no warning", res, err)
	}
	if !res.PullRequest.Draft {
		t.Errorf("PullRequest.Draft = false, want true")
	}

	creates := fake.Calls(http.MethodPost, "/repos/acme/gitops/pulls")
	wantCreate := map[string]any{"title": "deploy", "head": "gitship/web-prod", "base": "main", "body": "b", "draft": true}
	if len(creates) != 1 || !reflect.DeepEqual(creates[0].JSON(), wantCreate) {
		t.Fatalf("create calls = %v; want one with body %v", creates, wantCreate)
	}
	labels := fake.Calls(http.MethodPost, "/repos/acme/gitops/issues/1/labels")
	if len(labels) != 1 || !reflect.DeepEqual(labels[0].JSON(), []any{"gitship", "env:prod"}) {
		t.Fatalf("label calls = %v; want one adding [gitship env:prod]", labels)
	}
	revs := fake.Calls(http.MethodPost, "/repos/acme/gitops/pulls/1/requested_reviewers")
	wantRevs := map[string]any{"reviewers": []any{"alice"}, "team_reviewers": []any{"platform"}}
	if len(revs) != 1 || !reflect.DeepEqual(revs[0].JSON(), wantRevs) {
		t.Fatalf("reviewer calls = %v; want one with %v", revs, wantRevs)
	}
	gql := fake.Calls(http.MethodPost, "/graphql")
	if len(gql) != 1 {
		t.Fatalf("GraphQL calls = %v, want 1", gql)
	}
	var body struct {
		Query     string
		Variables map[string]string
	}
	if err := gql[0].Decode(&body); err != nil {
		t.Fatal(err)
	}
	pr, _ := fake.PR(1)
	if !strings.Contains(body.Query, "enablePullRequestAutoMerge") || !strings.Contains(body.Query, "mergeMethod: MERGE") || body.Variables["pullRequestId"] != pr.NodeID {
		t.Errorf("GraphQL body = %+v; want enablePullRequestAutoMerge of %s with MERGE", body, pr.NodeID)
	}

	// Again, with one more label: only that label is sent; reviewers and
	// auto-merge are in place already.
	res, err = p.Ensure(context.Background(), forge.Request{
		Head: "gitship/web-prod", Base: "main", Title: "deploy", Body: "b",
		Labels:    []string{"gitship", "env:prod", "app:web"},
		Reviewers: []string{"alice", "acme/platform"},
		AutoMerge: true,
	})
	if err != nil || res.Created {
		t.Fatalf("second Ensure() = %+v, %v", res, err)
	}
	labels = fake.Calls(http.MethodPost, "/issues/1/labels")
	if len(labels) != 2 || !reflect.DeepEqual(labels[1].JSON(), []any{"app:web"}) {
		t.Errorf("label calls = %v; want a second one adding only app:web", labels)
	}
	if n, m := len(fake.Calls(http.MethodPost, "/requested_reviewers")), len(fake.Calls(http.MethodPost, "/graphql")); n != 1 || m != 1 {
		t.Errorf("reviewer calls = %d, GraphQL calls = %d; want 1 and 1 (nothing missing the second time)", n, m)
	}

	pr, _ = fake.PR(1)
	want := forgetest.GitHubPR{Labels: []string{"gitship", "env:prod", "app:web"}, Reviewers: []string{"alice"}, TeamReviewers: []string{"platform"}, AutoMerge: "MERGE", Draft: true}
	if !reflect.DeepEqual(pr.Labels, want.Labels) || !reflect.DeepEqual(pr.Reviewers, want.Reviewers) ||
		!reflect.DeepEqual(pr.TeamReviewers, want.TeamReviewers) || pr.AutoMerge != want.AutoMerge || !pr.Draft {
		t.Errorf("fake PR = %+v; want labels, reviewers, teams, auto-merge and draft as asked", pr)
	}
}

func TestGitHubEnsureWarns(t *testing.T) {
	fake, p := newGitHub(t, forgetest.GitHubConfig{Login: "gitship-bot"})
	res, err := p.Ensure(context.Background(), forge.Request{
		Head: "h", Base: "main", Title: "t",
		Reviewers: []string{"gitship-bot"}, // the author: GitHub refuses
		AutoMerge: true,                    // not allowed for the repository
		Body:      strings.Repeat("é", 70000),
	})
	if err != nil {
		t.Fatalf("Ensure() error = %v; want warnings only", err)
	}
	joined := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"Auto merge is not allowed for this repository", "Review cannot be requested from pull request author", "65536"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Warnings = %q; want one with %q", res.Warnings, want)
		}
	}
	if pr, _ := fake.PR(1); len([]rune(pr.Body)) != 65536 || pr.AutoMerge != "" {
		t.Errorf("fake PR body %d characters, auto-merge %q; want 65536, off", len([]rune(pr.Body)), pr.AutoMerge)
	}
}

func TestGitHubEnterprise(t *testing.T) {
	fake := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "team", Repo: "app", Token: ghToken, AllowAutoMerge: true})
	p := newProvider(t, "github", "git@ghe.example.com:team/app.git", fast(ghToken, fake.EnterpriseURL()))
	res, err := p.Ensure(context.Background(), forge.Request{Head: "h", Base: "main", Title: "t", AutoMerge: true})
	if err != nil || !res.Created || len(res.Warnings) != 0 {
		t.Fatalf("Ensure() = %+v, %v", res, err)
	}
	for _, r := range fake.Requests() {
		if r.Path != "/api/graphql" && !strings.HasPrefix(r.Path, "/api/v3/repos/team/app/") {
			t.Errorf("request %s: want /api/v3/ (REST) or /api/graphql", r)
		}
	}
	if len(fake.Calls(http.MethodPost, "/api/graphql")) != 1 {
		t.Errorf("want the auto-merge mutation at /api/graphql")
	}
}
