package forgetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// GitHubConfig sets up a GitHub fake.
type GitHubConfig struct {
	Owner, Repo string
	// Token is accepted for everything (Authorization: Bearer or token).
	Token string
	// ReadOnlyToken is accepted for reads; a write answers 403 "Resource
	// not accessible by integration", as a GITHUB_TOKEN without
	// pull-requests: write does.
	ReadOnlyToken string
	// Login is the token's user, the author of the pull requests it
	// opens; "gitship-bot" if empty.
	Login string
	// Collaborators, when not nil, are the only logins reviews may be
	// requested from.
	Collaborators []string
	// AllowAutoMerge is the repository's "Allow auto-merge" setting.
	AllowAutoMerge bool
}

// GitHubPR is a pull request as the GitHub fake holds it.
type GitHubPR struct {
	Number        int
	NodeID        string
	HTMLURL       string
	State         string // "open" or "closed"
	Merged        bool
	Draft         bool
	Title, Body   string
	Head, Base    string
	Labels        []string
	Reviewers     []string // requested reviewers (logins)
	TeamReviewers []string // requested teams (slugs)
	AutoMerge     string   // merge method of enabled auto-merge ("MERGE"), "" when off
	Created       time.Time
	Updated       time.Time
	Closed        time.Time
	MergedAt      time.Time
	MergeCommit   string // merge_commit_sha once merged (MergeAs)
}

// GitHub is a fake of the GitHub REST and GraphQL APIs for one
// repository. It serves, at URL() as api.github.com and at
// EnterpriseURL() as GitHub Enterprise Server (/api/v3/, /api/graphql):
//
//	GET   /repos/{o}/{r}/pulls?state=&head=owner:ref&base=  list (newest first)
//	POST  /repos/{o}/{r}/pulls                              create (title, head, base, body, draft)
//	GET   /repos/{o}/{r}/pulls/{n}                          get
//	PATCH /repos/{o}/{r}/pulls/{n}                          update (title, body, state, base)
//	POST  /repos/{o}/{r}/pulls/{n}/requested_reviewers      request reviewers (reviewers, team_reviewers)
//	POST  /repos/{o}/{r}/issues/{n}/labels                  add labels (["a"] or {"labels": [...]})
//	POST  /graphql                                          the enablePullRequestAutoMerge mutation
type GitHub struct {
	recorder
	cfg GitHubConfig
	srv *httptest.Server

	store[GitHubPR, *GitHubPR]
}

// NewGitHub starts a GitHub fake that runs until the test ends.
func NewGitHub(t testing.TB, cfg GitHubConfig) *GitHub {
	t.Helper()
	if cfg.Login == "" {
		cfg.Login = "gitship-bot"
	}
	g := &GitHub{cfg: cfg}
	g.srv = start(t, g.handler(g.handle))
	return g
}

// URL is the REST API base, as https://api.github.com/ (GraphQL at
// URL()+"graphql").
func (g *GitHub) URL() string { return g.srv.URL + "/" }

// EnterpriseURL is the REST API base as GitHub Enterprise Server serves
// it, {host}/api/v3/ (GraphQL at {host}/api/graphql).
func (g *GitHub) EnterpriseURL() string { return g.srv.URL + "/api/v3/" }

// RepoURL is the repository's clone URL on github.com.
func (g *GitHub) RepoURL() string {
	return "https://github.com/" + g.cfg.Owner + "/" + g.cfg.Repo + ".git"
}

// SetAllowAutoMerge changes the repository's "Allow auto-merge" setting.
func (g *GitHub) SetAllowAutoMerge(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg.AllowAutoMerge = on
}

// Merge merges open pull request n, as the merge button does.
func (g *GitHub) Merge(n int) error { return g.store.finish(n, true) }

// MergeAs merges open pull request n as Merge does, its merge having made
// commit sha on the base branch (merge_commit_sha).
func (g *GitHub) MergeAs(n int, sha string) error {
	return g.store.finishWith(n, true, func(p *GitHubPR) { p.MergeCommit = sha })
}

// Close closes open pull request n without merging it.
func (g *GitHub) Close(n int) error { return g.store.finish(n, false) }

func (p *GitHubPR) number() int { return p.Number }
func (p *GitHubPR) open() bool  { return p.State == "open" }

func (p *GitHubPR) finish(merged bool, now time.Time) {
	p.State, p.Closed, p.Updated = "closed", now, now
	if merged {
		p.Merged, p.MergedAt = true, now
	}
}

func (p *GitHubPR) clone() GitHubPR {
	c := *p
	c.Labels = slices.Clone(p.Labels)
	c.Reviewers = slices.Clone(p.Reviewers)
	c.TeamReviewers = slices.Clone(p.TeamReviewers)
	return c
}

type ghError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func ghFail(w http.ResponseWriter, status int, msg, doc string, errs ...ghError) {
	body := map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest" + doc, "status": strconv.Itoa(status)}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}

func (g *GitHub) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")

	path := r.URL.Path
	if path == "/graphql" || path == "/api/graphql" {
		g.graphql(w, r, body)
		return
	}
	path = strings.TrimPrefix(path, "/api/v3")

	readOnly := false
	switch strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "token ")) {
	case g.cfg.Token:
		if g.cfg.Token == "" {
			ghFail(w, http.StatusUnauthorized, "Requires authentication", "")
			return
		}
	case g.cfg.ReadOnlyToken:
		readOnly = g.cfg.ReadOnlyToken != ""
		if !readOnly {
			ghFail(w, http.StatusUnauthorized, "Bad credentials", "")
			return
		}
	default:
		ghFail(w, http.StatusUnauthorized, "Bad credentials", "")
		return
	}

	seg := strings.Split(strings.Trim(path, "/"), "/")
	if len(seg) < 4 || seg[0] != "repos" || !strings.EqualFold(seg[1], g.cfg.Owner) || !strings.EqualFold(seg[2], g.cfg.Repo) {
		ghFail(w, http.StatusNotFound, "Not Found", "")
		return
	}
	if readOnly && r.Method != http.MethodGet {
		ghFail(w, http.StatusForbidden, "Resource not accessible by integration", "/pulls/pulls")
		return
	}
	seg = seg[3:]
	num := 0
	if len(seg) >= 2 {
		n, err := strconv.Atoi(seg[1])
		if err != nil {
			ghFail(w, http.StatusNotFound, "Not Found", "")
			return
		}
		num = n
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case seg[0] == "pulls" && len(seg) == 1 && r.Method == http.MethodGet:
		g.list(w, r)
	case seg[0] == "pulls" && len(seg) == 1 && r.Method == http.MethodPost:
		g.create(w, body)
	case seg[0] == "pulls" && len(seg) == 2 && r.Method == http.MethodGet:
		g.withPR(w, num, func(p *GitHubPR) { writeJSON(w, http.StatusOK, g.json(p, true)) })
	case seg[0] == "pulls" && len(seg) == 2 && r.Method == http.MethodPatch:
		g.withPR(w, num, func(p *GitHubPR) { g.update(w, p, body) })
	case seg[0] == "pulls" && len(seg) == 3 && seg[2] == "requested_reviewers" && r.Method == http.MethodPost:
		g.withPR(w, num, func(p *GitHubPR) { g.requestReviewers(w, p, body) })
	case seg[0] == "issues" && len(seg) == 3 && seg[2] == "labels" && r.Method == http.MethodPost:
		g.withPR(w, num, func(p *GitHubPR) { g.addLabels(w, p, body) })
	default:
		ghFail(w, http.StatusNotFound, "Not Found", "")
	}
}

func (g *GitHub) withPR(w http.ResponseWriter, n int, f func(*GitHubPR)) {
	p := g.find(n)
	if p == nil {
		ghFail(w, http.StatusNotFound, "Not Found", "/pulls/pulls#get-a-pull-request")
		return
	}
	f(p)
}

// list filters as GitHub does: head only in the owner:ref form (a bare
// branch name filters nothing), base by branch, state open by default.
func (g *GitHub) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	head := q.Get("head")
	out := []any{}
	for i := len(g.prs) - 1; i >= 0; i-- { // newest first
		p := g.prs[i]
		if state != "all" && p.State != state {
			continue
		}
		if user, ref, ok := strings.Cut(head, ":"); ok && (!strings.EqualFold(user, g.cfg.Owner) || ref != p.Head) {
			continue
		}
		if b := q.Get("base"); b != "" && b != p.Base {
			continue
		}
		out = append(out, g.json(p, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *GitHub) create(w http.ResponseWriter, body []byte) {
	var in struct {
		Title *string `json:"title"`
		Head  *string `json:"head"`
		Base  *string `json:"base"`
		Body  *string `json:"body"`
		Draft *bool   `json:"draft"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		ghFail(w, http.StatusBadRequest, "Problems parsing JSON", "/pulls/pulls#create-a-pull-request")
		return
	}
	const doc = "/pulls/pulls#create-a-pull-request"
	for _, f := range []struct {
		name string
		v    *string
	}{{"head", in.Head}, {"base", in.Base}, {"title", in.Title}} {
		if f.v == nil || *f.v == "" {
			ghFail(w, http.StatusUnprocessableEntity, "Validation Failed", doc, ghError{Resource: "PullRequest", Field: f.name, Code: "missing_field"})
			return
		}
	}
	head := *in.Head
	if user, ref, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(user, g.cfg.Owner) {
			ghFail(w, http.StatusUnprocessableEntity, "Validation Failed", doc, ghError{Resource: "PullRequest", Field: "head", Code: "invalid"})
			return
		}
		head = ref
	}
	if head == *in.Base {
		ghFail(w, http.StatusUnprocessableEntity, "Validation Failed", doc, ghError{Resource: "PullRequest", Code: "custom", Message: "No commits between " + *in.Base + " and " + head})
		return
	}
	for _, p := range g.prs {
		if p.State == "open" && p.Head == head && p.Base == *in.Base {
			ghFail(w, http.StatusUnprocessableEntity, "Validation Failed", doc, ghError{Resource: "PullRequest", Code: "custom", Message: "A pull request already exists for " + g.cfg.Owner + ":" + head + "."})
			return
		}
	}
	text := deref(in.Body)
	if !bodyFits(w, text) {
		return
	}
	n := len(g.prs) + 1
	now := time.Now().UTC()
	p := &GitHubPR{
		Number:  n,
		NodeID:  fmt.Sprintf("PR_kwDOfake%06d", n),
		HTMLURL: fmt.Sprintf("https://github.com/%s/%s/pull/%d", g.cfg.Owner, g.cfg.Repo, n),
		State:   "open",
		Draft:   in.Draft != nil && *in.Draft,
		Title:   *in.Title,
		Body:    text,
		Head:    head,
		Base:    *in.Base,
		Created: now,
		Updated: now,
	}
	g.prs = append(g.prs, p)
	w.Header().Set("Location", g.apiURL(p))
	writeJSON(w, http.StatusCreated, g.json(p, true))
}

func bodyFits(w http.ResponseWriter, body string) bool {
	if utf8.RuneCountInString(body) > 65536 {
		ghFail(w, http.StatusUnprocessableEntity, "Validation Failed", "/pulls/pulls", ghError{Resource: "Issue", Field: "body", Code: "custom", Message: "body is too long (maximum is 65536 characters)"})
		return false
	}
	return true
}

func (g *GitHub) update(w http.ResponseWriter, p *GitHubPR, body []byte) {
	var in struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		ghFail(w, http.StatusBadRequest, "Problems parsing JSON", "/pulls/pulls#update-a-pull-request")
		return
	}
	if in.Body != nil && !bodyFits(w, *in.Body) {
		return
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Body != nil {
		p.Body = *in.Body
	}
	if in.Base != nil {
		p.Base = *in.Base
	}
	if in.State != nil && !p.Merged {
		p.State = *in.State
		if p.State == "closed" {
			p.Closed = time.Now().UTC()
		}
	}
	p.Updated = time.Now().UTC()
	writeJSON(w, http.StatusOK, g.json(p, true))
}

func (g *GitHub) requestReviewers(w http.ResponseWriter, p *GitHubPR, body []byte) {
	var in struct {
		Reviewers     []string `json:"reviewers"`
		TeamReviewers []string `json:"team_reviewers"`
	}
	const doc = "/pulls/review-requests#request-reviewers-for-a-pull-request"
	if err := json.Unmarshal(body, &in); err != nil {
		ghFail(w, http.StatusBadRequest, "Problems parsing JSON", doc)
		return
	}
	for _, r := range in.Reviewers {
		if strings.EqualFold(r, g.cfg.Login) {
			ghFail(w, http.StatusUnprocessableEntity, "Review cannot be requested from pull request author.", doc)
			return
		}
		if g.cfg.Collaborators != nil && !slices.ContainsFunc(g.cfg.Collaborators, func(c string) bool { return strings.EqualFold(c, r) }) {
			ghFail(w, http.StatusUnprocessableEntity, "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the "+g.cfg.Owner+"/"+g.cfg.Repo+" repository.", doc)
			return
		}
	}
	for _, r := range in.Reviewers {
		if !slices.Contains(p.Reviewers, r) {
			p.Reviewers = append(p.Reviewers, r)
		}
	}
	for _, t := range in.TeamReviewers {
		if !slices.Contains(p.TeamReviewers, t) {
			p.TeamReviewers = append(p.TeamReviewers, t)
		}
	}
	writeJSON(w, http.StatusCreated, g.json(p, true))
}

// addLabels takes the three body forms the docs list: an array of names,
// {"labels": [names]} and {"labels": [{"name": n}]}.
func (g *GitHub) addLabels(w http.ResponseWriter, p *GitHubPR, body []byte) {
	var names []string
	if json.Unmarshal(body, &names) != nil {
		names = nil
		var in struct {
			Labels json.RawMessage `json:"labels"`
		}
		var strs []string
		var objs []struct {
			Name string `json:"name"`
		}
		switch {
		case json.Unmarshal(body, &in) != nil || in.Labels == nil:
			ghFail(w, http.StatusUnprocessableEntity, "Invalid request.", "/issues/labels#add-labels-to-an-issue")
			return
		case json.Unmarshal(in.Labels, &strs) == nil:
			names = strs
		case json.Unmarshal(in.Labels, &objs) == nil:
			for _, o := range objs {
				names = append(names, o.Name)
			}
		default:
			ghFail(w, http.StatusUnprocessableEntity, "Invalid request.", "/issues/labels#add-labels-to-an-issue")
			return
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(p.Labels, func(l string) bool { return strings.EqualFold(l, n) }) {
			p.Labels = append(p.Labels, n)
		}
	}
	writeJSON(w, http.StatusOK, g.labels(p))
}

var (
	gqlMutation = regexp.MustCompile(`enablePullRequestAutoMerge\s*\(\s*input\s*:\s*\{([^}]*)\}`)
	gqlArg      = regexp.MustCompile(`(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|\$\w+|\w+)`)
)

// graphql serves the enablePullRequestAutoMerge mutation, its input given
// inline or through variables. Errors come as GitHub sends them: HTTP
// 200 with "errors" (type, path, message).
func (g *GitHub) graphql(w http.ResponseWriter, r *http.Request, body []byte) {
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "token "))
	readOnly := g.cfg.ReadOnlyToken != "" && token == g.cfg.ReadOnlyToken
	if !readOnly && (g.cfg.Token == "" || token != g.cfg.Token) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql"})
		return
	}
	var in struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Query == "" {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "A query attribute must be specified and must be a string."}}})
		return
	}
	gqlErr := func(typ, msg string) {
		writeJSON(w, http.StatusOK, map[string]any{
			"data":   map[string]any{"enablePullRequestAutoMerge": nil},
			"errors": []any{map[string]any{"type": typ, "path": []string{"enablePullRequestAutoMerge"}, "message": msg}},
		})
	}
	m := gqlMutation.FindStringSubmatch(in.Query)
	if m == nil || !strings.HasPrefix(strings.TrimSpace(in.Query), "mutation") {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "github fake: only the enablePullRequestAutoMerge mutation is served"}}})
		return
	}
	args := map[string]string{}
	for _, a := range gqlArg.FindAllStringSubmatch(m[1], -1) {
		v := a[2]
		switch {
		case strings.HasPrefix(v, "$"):
			s, _ := in.Variables[v[1:]].(string)
			v = s
		case strings.HasPrefix(v, `"`):
			_ = json.Unmarshal([]byte(v), &v)
		}
		args[a[1]] = v
	}
	if readOnly {
		gqlErr("FORBIDDEN", "Resource not accessible by integration")
		return
	}
	method := args["mergeMethod"]
	if method == "" {
		method = "MERGE"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var p *GitHubPR
	for _, q := range g.prs {
		if q.NodeID == args["pullRequestId"] {
			p = q
		}
	}
	switch {
	case p == nil:
		gqlErr("NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", args["pullRequestId"]))
		return
	case !g.cfg.AllowAutoMerge:
		gqlErr("UNPROCESSABLE", "Auto merge is not allowed for this repository")
		return
	}
	p.AutoMerge = method
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"enablePullRequestAutoMerge": map[string]any{
		"pullRequest": map[string]any{
			"id":               p.NodeID,
			"number":           p.Number,
			"autoMergeRequest": map[string]any{"enabledAt": time.Now().UTC().Format(time.RFC3339), "mergeMethod": method},
		},
	}}})
}

func (g *GitHub) apiURL(p *GitHubPR) string {
	return fmt.Sprintf("%s/repos/%s/%s/pulls/%d", g.srv.URL, g.cfg.Owner, g.cfg.Repo, p.Number)
}

func (g *GitHub) labels(p *GitHubPR) []any {
	out := []any{}
	for i, l := range p.Labels {
		out = append(out, map[string]any{
			"id": 100 + i, "node_id": fmt.Sprintf("LA_fake%d", i), "name": l, "color": "ededed", "default": false, "description": nil,
			"url": fmt.Sprintf("%s/repos/%s/%s/labels/%s", g.srv.URL, g.cfg.Owner, g.cfg.Repo, l),
		})
	}
	return out
}

// nullable is s, or JSON null when it is empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ghTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339)
}

// json renders a pull request; full adds what only GET of one pull
// request returns (merged, mergeable, ...), as GitHub does.
func (g *GitHub) json(p *GitHubPR, full bool) map[string]any {
	user := map[string]any{"login": g.cfg.Login, "id": 1, "type": "User"}
	repo := map[string]any{"name": g.cfg.Repo, "full_name": g.cfg.Owner + "/" + g.cfg.Repo, "owner": map[string]any{"login": g.cfg.Owner}}
	reviewers := []any{}
	for _, r := range p.Reviewers {
		reviewers = append(reviewers, map[string]any{"login": r, "type": "User"})
	}
	teams := []any{}
	for _, t := range p.TeamReviewers {
		teams = append(teams, map[string]any{"slug": t, "name": t})
	}
	var auto any
	if p.AutoMerge != "" {
		auto = map[string]any{"enabled_by": user, "merge_method": strings.ToLower(p.AutoMerge), "commit_title": "", "commit_message": ""}
	}
	m := map[string]any{
		"url":                 g.apiURL(p),
		"id":                  1000 + p.Number,
		"node_id":             p.NodeID,
		"html_url":            p.HTMLURL,
		"number":              p.Number,
		"state":               p.State,
		"locked":              false,
		"title":               p.Title,
		"body":                p.Body,
		"user":                user,
		"labels":              g.labels(p),
		"requested_reviewers": reviewers,
		"requested_teams":     teams,
		"draft":               p.Draft,
		"head":                map[string]any{"label": g.cfg.Owner + ":" + p.Head, "ref": p.Head, "sha": fmt.Sprintf("%040d", p.Number), "user": user, "repo": repo},
		"base":                map[string]any{"label": g.cfg.Owner + ":" + p.Base, "ref": p.Base, "sha": fmt.Sprintf("%040d", 0), "repo": repo},
		"created_at":          ghTime(p.Created),
		"updated_at":          ghTime(p.Updated),
		"closed_at":           ghTime(p.Closed),
		"merged_at":           ghTime(p.MergedAt),
		"merge_commit_sha":    nullable(p.MergeCommit),
		"auto_merge":          auto,
		"author_association":  "CONTRIBUTOR",
	}
	if full {
		m["merged"] = p.Merged
		m["mergeable"] = nil
		m["mergeable_state"] = "unknown"
		m["comments"] = 0
		m["commits"] = 1
	}
	return m
}
