package forgetest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/forgetest"
)

func do(t *testing.T, method, url, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestGitHubFake(t *testing.T) {
	g := forgetest.NewGitHub(t, forgetest.GitHubConfig{Owner: "acme", Repo: "gitops", Token: "tok"})
	auth := map[string]string{"Authorization": "Bearer tok"}
	pulls := g.URL() + "repos/acme/gitops/pulls"

	if code, _, body := do(t, "GET", pulls, "", map[string]string{"Authorization": "token nope"}); code != 401 || !strings.Contains(body, "Bad credentials") {
		t.Errorf("wrong token: %d %s", code, body)
	}
	for _, head := range []string{"a", "b"} {
		if code, _, body := do(t, "POST", pulls, `{"title":"t","head":"`+head+`","base":"main"}`, auth); code != 201 {
			t.Fatalf("create %s: %d %s", head, code, body)
		}
	}
	code, _, body := do(t, "POST", pulls, `{"title":"t","head":"acme:a","base":"main"}`, auth)
	if code != 422 || !strings.Contains(body, "A pull request already exists for acme:a.") {
		t.Errorf("duplicate create: %d %s", code, body)
	}

	count := func(q string) int {
		_, _, body := do(t, "GET", pulls+q, "", auth)
		var prs []map[string]any
		if err := json.Unmarshal([]byte(body), &prs); err != nil {
			t.Fatal(err)
		}
		for _, p := range prs {
			if _, ok := p["merged"]; ok {
				t.Errorf("list item has merged: GitHub lists leave it out")
			}
		}
		return len(prs)
	}
	if n := count("?head=acme:a"); n != 1 {
		t.Errorf("head=acme:a lists %d, want 1", n)
	}
	if n := count("?head=a"); n != 2 {
		t.Errorf("head=a (no owner) lists %d, want 2: GitHub ignores it", n)
	}

	// The three label body forms.
	for _, b := range []string{`["x"]`, `{"labels":["y"]}`, `{"labels":[{"name":"z"}]}`} {
		if code, _, body := do(t, "POST", g.URL()+"repos/acme/gitops/issues/1/labels", b, auth); code != 200 {
			t.Errorf("labels %s: %d %s", b, code, body)
		}
	}
	if pr, _ := g.PR(1); strings.Join(pr.Labels, ",") != "x,y,z" {
		t.Errorf("labels = %v", pr.Labels)
	}

	// GraphQL with the input inline.
	pr, _ := g.PR(2)
	q := `{"query":"mutation { enablePullRequestAutoMerge(input: {pullRequestId: \"` + pr.NodeID + `\", mergeMethod: SQUASH}) { clientMutationId } }"}`
	if _, _, body := do(t, "POST", g.URL()+"graphql", q, auth); !strings.Contains(body, "Auto merge is not allowed for this repository") {
		t.Errorf("auto-merge not allowed: %s", body)
	}
	g.SetAllowAutoMerge(true)
	if code, _, body := do(t, "POST", g.URL()+"graphql", q, auth); code != 200 || strings.Contains(body, "errors") {
		t.Errorf("auto-merge: %d %s", code, body)
	}
	if pr, _ := g.PR(2); pr.AutoMerge != "SQUASH" {
		t.Errorf("AutoMerge = %q, want SQUASH", pr.AutoMerge)
	}
}

func TestAzureFake(t *testing.T) {
	a := forgetest.NewAzure(t, forgetest.AzureConfig{Org: "contoso", Project: "web", Repo: "gitops", Token: "pat"})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(":pat"))
	prs := a.OrgURL() + "/web/_apis/git/repositories/gitops/pullRequests"
	auth := map[string]string{"Authorization": basic, "Accept": "application/json;api-version=7.1", "X-TFS-FedAuthRedirect": "Suppress"}

	bad := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(":nope"))}
	if code, h, _ := do(t, "GET", prs, "", bad); code != 203 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Errorf("wrong token without Suppress: %d %s; want 203 and the sign-in page", code, h.Get("Content-Type"))
	}
	bad["X-TFS-FedAuthRedirect"] = "Suppress"
	if code, _, _ := do(t, "GET", prs, "", bad); code != 401 {
		t.Errorf("wrong token with Suppress: %d, want 401", code)
	}
	if code, _, body := do(t, "GET", prs, "", map[string]string{"Authorization": basic}); code != 400 || !strings.Contains(body, "api-version") {
		t.Errorf("no api-version: %d %s", code, body)
	}
	if code, _, body := do(t, "OPTIONS", a.OrgURL()+"/_apis", "", map[string]string{"Authorization": basic}); code != 200 || !strings.Contains(body, `"routeTemplate"`) {
		t.Errorf("OPTIONS _apis: %d %s", code, body)
	}

	create := `{"sourceRefName":"refs/heads/h","targetRefName":"refs/heads/main","title":"t","description":"` + strings.Repeat("d", 500) + `"}`
	if code, _, body := do(t, "POST", prs, create, auth); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, _, body := do(t, "POST", prs, create, auth); code != 409 || !strings.Contains(body, "TF401179") {
		t.Errorf("duplicate create: %d %s", code, body)
	}
	if code, _, body := do(t, "POST", prs, `{"sourceRefName":"h","targetRefName":"refs/heads/main","title":"t"}`, auth); code != 400 || !strings.Contains(body, "TF401398") {
		t.Errorf("create without refs/heads/: %d %s", code, body)
	}
	_, _, body := do(t, "GET", prs+"?searchCriteria.sourceRefName=refs/heads/h", "", auth)
	var list struct {
		Count int
		Value []struct{ Description string }
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || list.Count != 1 || len(list.Value[0].Description) != 400 {
		t.Errorf("list: %v %s; want one pull request, description cut to 400", err, body)
	}
	if code, _, body := do(t, "PATCH", prs+"/1", `{"title":"t2","labels":[{"name":"x"}]}`, auth); code != 400 || !strings.Contains(body, "labels") {
		t.Errorf("PATCH labels: %d %s; want 400, labels cannot be updated", code, body)
	}
	if code, _, body := do(t, "PATCH", prs+"/1", `{"description":"`+strings.Repeat("d", 4001)+`"}`, auth); code != 400 {
		t.Errorf("PATCH a 4001-character description: %d %s; want 400", code, body)
	}
	if code, _, body := do(t, "GET", a.OrgURL()+"/web/_apis/git/pullRequests/1", "", auth); code != 200 || !strings.Contains(body, `"pullRequestId":1`) {
		t.Errorf("get by id: %d %s", code, body)
	}
}
