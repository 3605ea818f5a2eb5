package forgetest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Azure DevOps ids the fake serves: resource areas and API locations as
// the service lists them (and azure-devops-go-api v7 looks them up).
const (
	AzureGitAreaID      = "4e080c62-fa21-4fbc-8fef-2a10a2b38049"
	AzureIdentityAreaID = "8a3d49b8-91f0-46ef-b33d-dda338c25db3" // IMS, served by vssps

	locResourceAreas  = "e81700f7-3be2-46de-8624-2eb35882fcaa"
	locConnectionData = "00d9565f-ed9c-4a06-9a50-00e7896ccab4"
	locPullRequests   = "9946fd70-0d40-406e-b686-b4744cbbcc37"
	locPullRequestID  = "01a46dea-7d46-4d40-bc84-319e7c260d99"
	locPRLabels       = "f22387e3-984e-4c52-9c6d-fbb8f14c812d"
	locPRReviewers    = "4b6702c7-aa35-4b89-9c96-b9abf6d3e540"
	locIdentities     = "28010c54-d0c0-4c89-a5b0-1c9e188b9fb7"
)

// AzureIdentity is a user or group of the organization.
type AzureIdentity struct {
	ID          string // a GUID
	UniqueName  string // e.g. jane@example.com
	DisplayName string
}

// AzureConfig sets up an Azure DevOps fake.
type AzureConfig struct {
	Org, Project, Repo string
	// Token is the PAT accepted for everything, sent as Basic
	// base64(user:token) (any user) or Bearer token.
	Token string
	// ReadOnlyToken is accepted for reads; a write answers 403 TF401027
	// (no PullRequestContribute permission).
	ReadOnlyToken string
	// User is the identity the tokens authenticate (connectionData), the
	// creator of the pull requests; a "gitship" identity if empty.
	User AzureIdentity
	// Identities are the organization's other identities, found by
	// unique or display name through ReadIdentities.
	Identities []AzureIdentity
}

// AzurePR is a pull request as the Azure fake holds it.
type AzurePR struct {
	ID                 int
	Status             string // active, completed, abandoned
	Title, Description string
	SourceRefName      string
	TargetRefName      string
	IsDraft            bool
	Labels             []string
	Reviewers          []string // identity ids
	CreatedBy          string   // identity id
	AutoCompleteSetBy  string   // identity id, "" when auto-complete is off
	CompletionOptions  map[string]any
	Created            time.Time
	Closed             time.Time
	LastMergeCommit    string // lastMergeCommit's commitId once completed (CompleteAs)
}

// Azure is a fake of Azure DevOps Services for one repository: the
// organization at OrgURL(), its identity service (vssps) beside it. It
// serves what azure-devops-go-api's git, location and identity clients
// call:
//
//	OPTIONS {org}/_apis                      API locations (route templates, versions)
//	GET     {org}/_apis/ResourceAreas        resource areas: git at {org}/, IMS at vssps/{org}/
//	GET     {org}/_apis/ConnectionData       the token's identity (authenticatedUser)
//	GET     {org}/{project}/_apis/git/repositories/{repo}/pullRequests?searchCriteria.*  list
//	POST    {org}/{project}/_apis/git/repositories/{repo}/pullRequests                   create
//	GET     {org}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}              get
//	PATCH   {org}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}              update
//	GET     {org}/{project}/_apis/git/pullRequests/{id}                                  get by id
//	POST    {org}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}/labels       add a label
//	POST    {org}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}/reviewers    add reviewers
//	PUT     {org}/{project}/_apis/git/repositories/{repo}/pullRequests/{id}/reviewers/{reviewerId}
//	OPTIONS vssps/{org}/_apis                API locations of the identity service
//	GET     vssps/{org}/_apis/Identities?searchFilter=General&filterValue=  ReadIdentities
//
// Paths match case-insensitively, as the service's do (the client
// lower-cases the organization URL). Every call but OPTIONS must carry an
// api-version (in Accept or the query). A refused token gets the HTML
// sign-in page the service sends: 401 with X-TFS-FedAuthRedirect:
// Suppress, 203 without.
type Azure struct {
	recorder
	cfg       AzureConfig
	srv       *httptest.Server
	projectID string
	repoID    string

	store[AzurePR, *AzurePR]
}

// NewAzure starts an Azure DevOps fake that runs until the test ends.
func NewAzure(t testing.TB, cfg AzureConfig) *Azure {
	t.Helper()
	if cfg.User.ID == "" {
		cfg.User = AzureIdentity{ID: "8c8c7d32-6b1b-47f4-b2e9-30b477b5ab3d", UniqueName: "gitship@example.com", DisplayName: "gitship"}
	}
	a := &Azure{cfg: cfg, projectID: "b3f4e1c2-0d1a-4c5e-9f60-1a2b3c4d5e6f", repoID: "5febef5a-833d-4e14-b9c0-14cb638f91e6"}
	a.srv = start(t, a.handler(a.handle))
	return a
}

// OrgURL is the organization's URL, as https://dev.azure.com/{org}: the
// Options.APIURL of a provider under test.
func (a *Azure) OrgURL() string { return a.srv.URL + "/" + a.cfg.Org }

// RepoURL is the repository's clone URL on dev.azure.com.
func (a *Azure) RepoURL() string {
	return "https://dev.azure.com/" + url.PathEscape(a.cfg.Org) + "/" + url.PathEscape(a.cfg.Project) + "/_git/" + url.PathEscape(a.cfg.Repo)
}

// User is the identity the tokens authenticate.
func (a *Azure) User() AzureIdentity { return a.cfg.User }

// Complete completes (merges) active pull request id.
func (a *Azure) Complete(id int) error { return a.store.finish(id, true) }

// CompleteAs completes active pull request id as Complete does, its merge
// having made commit sha on the target branch (lastMergeCommit).
func (a *Azure) CompleteAs(id int, sha string) error {
	return a.store.finishWith(id, true, func(p *AzurePR) { p.LastMergeCommit = sha })
}

// Abandon abandons active pull request id.
func (a *Azure) Abandon(id int) error { return a.store.finish(id, false) }

func (p *AzurePR) number() int { return p.ID }
func (p *AzurePR) open() bool  { return p.Status == "active" }

func (p *AzurePR) finish(merged bool, now time.Time) {
	p.Status, p.Closed = "abandoned", now
	if merged {
		p.Status = "completed"
	}
}

func (p *AzurePR) clone() AzurePR {
	c := *p
	c.Labels = slices.Clone(p.Labels)
	c.Reviewers = slices.Clone(p.Reviewers)
	if p.CompletionOptions != nil {
		c.CompletionOptions = map[string]any{}
		for k, v := range p.CompletionOptions {
			c.CompletionOptions[k] = v
		}
	}
	return c
}

func (a *Azure) identity(id string) (AzureIdentity, bool) {
	for _, i := range append([]AzureIdentity{a.cfg.User}, a.cfg.Identities...) {
		if strings.EqualFold(i.ID, id) {
			return i, true
		}
	}
	return AzureIdentity{}, false
}

// azFail writes a service error as Azure DevOps does: the exception's
// message, type name and key.
func azFail(w http.ResponseWriter, status int, typeKey, msg string) {
	writeJSON(w, status, map[string]any{
		"$id":            "1",
		"innerException": nil,
		"message":        msg,
		"typeName":       "Microsoft.TeamFoundation.Git.Server." + typeKey + ", Microsoft.TeamFoundation.Git.Server",
		"typeKey":        typeKey,
		"errorCode":      0,
		"eventId":        3000,
	})
}

const signInPage = `<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in</body></html>`

var apiVersionRE = regexp.MustCompile(`api-version=([0-9][^;,\s]*)`)

// apiVersion is the api-version a request asks for, "" if none.
func apiVersion(r *http.Request) string {
	if v := r.URL.Query().Get("api-version"); v != "" {
		return v
	}
	if m := apiVersionRE.FindStringSubmatch(r.Header.Get("Accept")); m != nil {
		return m[1]
	}
	return ""
}

// authorized returns whether the request carries Token (write true) or
// ReadOnlyToken (write false).
func (a *Azure) authorized(r *http.Request) (ok, write bool) {
	h := r.Header.Get("Authorization")
	var tok string
	switch {
	case strings.HasPrefix(h, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
		if err != nil {
			return false, false
		}
		_, tok, _ = strings.Cut(string(raw), ":")
	case strings.HasPrefix(h, "Bearer "):
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	switch {
	case tok == "":
		return false, false
	case tok == a.cfg.Token:
		return true, true
	case tok == a.cfg.ReadOnlyToken:
		return true, false
	}
	return false, false
}

func (a *Azure) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	ok, write := a.authorized(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="https://dev.azure.com/"`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Header.Get("X-TFS-FedAuthRedirect") == "Suppress" {
			w.WriteHeader(http.StatusUnauthorized)
		} else {
			w.WriteHeader(http.StatusNonAuthoritativeInfo)
		}
		io.WriteString(w, signInPage)
		return
	}

	var seg []string
	for _, s := range strings.Split(strings.Trim(r.URL.Path, "/"), "/") {
		v, err := url.PathUnescape(s)
		if err != nil {
			v = s
		}
		seg = append(seg, v)
	}
	lower := func(i int) string {
		if i < len(seg) {
			return strings.ToLower(seg[i])
		}
		return ""
	}

	vssps := lower(0) == "vssps"
	if vssps {
		seg = seg[1:]
	}
	if !strings.EqualFold(lower(0), a.cfg.Org) {
		azFail(w, http.StatusNotFound, "AccountNotFoundException", "The organization "+seg[0]+" was not found.")
		return
	}
	seg = seg[1:]

	if r.Method == http.MethodOptions {
		if len(seg) == 1 && lower(0) == "_apis" {
			writeJSON(w, http.StatusOK, a.locations(vssps))
			return
		}
		azFail(w, http.StatusNotFound, "ApiResourceNotFoundException", "API resource location not found.")
		return
	}
	if apiVersion(r) == "" {
		azFail(w, http.StatusBadRequest, "VssVersionNotSpecifiedException", `No api-version was supplied for the "`+r.Method+`" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`)
		return
	}
	if !write && r.Method != http.MethodGet {
		azFail(w, http.StatusForbidden, "GitNeedsPermissionException", fmt.Sprintf("TF401027: You need the Git 'PullRequestContribute' permission to perform this action. Details: identity '%s', scope 'repository'.", a.cfg.User.DisplayName))
		return
	}

	if vssps {
		if len(seg) == 2 && lower(0) == "_apis" && lower(1) == "identities" && r.Method == http.MethodGet {
			a.readIdentities(w, r)
			return
		}
		azFail(w, http.StatusNotFound, "ApiResourceNotFoundException", "API resource not found.")
		return
	}

	switch {
	case len(seg) >= 2 && lower(0) == "_apis" && lower(1) == "resourceareas" && r.Method == http.MethodGet:
		a.resourceAreas(w)
		return
	case len(seg) == 2 && lower(0) == "_apis" && lower(1) == "connectiondata" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{
			"authenticatedUser": a.identityJSON(a.cfg.User),
			"authorizedUser":    a.identityJSON(a.cfg.User),
			"instanceId":        "0e6d8a07-5f4e-4b0a-8a39-4e8e1f5e0c11",
			"deploymentId":      "0e6d8a07-5f4e-4b0a-8a39-4e8e1f5e0c12",
			"deploymentType":    "hosted",
			"locationServiceData": map[string]any{
				"serviceOwner":                "00025394-6065-48ca-87d9-7f5672854ef7",
				"defaultAccessMappingMoniker": "PublicAccessMapping",
				"lastChangeId":                1, "lastChangeId64": 1,
			},
		})
		return
	}

	// {project}/_apis/git/...
	if len(seg) < 3 || lower(1) != "_apis" || lower(2) != "git" {
		azFail(w, http.StatusNotFound, "ApiResourceNotFoundException", "API resource not found.")
		return
	}
	if !strings.EqualFold(seg[0], a.cfg.Project) && !strings.EqualFold(seg[0], a.projectID) {
		azFail(w, http.StatusNotFound, "ProjectDoesNotExistWithNameException", "TF200016: The following project does not exist: "+seg[0]+". Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.")
		return
	}
	seg = seg[3:] // lower reads the new seg

	a.mu.Lock()
	defer a.mu.Unlock()

	// pullRequests/{id}: by id, across the project's repositories.
	if lower(0) == "pullrequests" && len(seg) == 2 && r.Method == http.MethodGet {
		a.withPR(w, seg[1], func(p *AzurePR) { writeJSON(w, http.StatusOK, a.json(p)) })
		return
	}
	if lower(0) != "repositories" || len(seg) < 3 || lower(2) != "pullrequests" {
		azFail(w, http.StatusNotFound, "ApiResourceNotFoundException", "API resource not found.")
		return
	}
	if !strings.EqualFold(seg[1], a.cfg.Repo) && !strings.EqualFold(seg[1], a.repoID) {
		azFail(w, http.StatusNotFound, "GitRepositoryNotFoundException", "TF401019: The Git repository with name or identifier "+seg[1]+" does not exist or you do not have permissions for the operation you are attempting.")
		return
	}
	seg = seg[3:]
	switch {
	case len(seg) == 0 && r.Method == http.MethodGet:
		a.list(w, r)
	case len(seg) == 0 && r.Method == http.MethodPost:
		a.create(w, body)
	case len(seg) == 1 && r.Method == http.MethodGet:
		a.withPR(w, seg[0], func(p *AzurePR) { writeJSON(w, http.StatusOK, a.json(p)) })
	case len(seg) == 1 && r.Method == http.MethodPatch:
		a.withPR(w, seg[0], func(p *AzurePR) { a.update(w, p, body) })
	case len(seg) == 2 && strings.EqualFold(seg[1], "labels") && r.Method == http.MethodPost:
		a.withPR(w, seg[0], func(p *AzurePR) { a.addLabel(w, p, body) })
	case len(seg) == 2 && strings.EqualFold(seg[1], "reviewers") && r.Method == http.MethodPost:
		a.withPR(w, seg[0], func(p *AzurePR) { a.addReviewers(w, p, body) })
	case len(seg) == 3 && strings.EqualFold(seg[1], "reviewers") && r.Method == http.MethodPut:
		a.withPR(w, seg[0], func(p *AzurePR) { a.putReviewer(w, p, seg[2], body) })
	default:
		azFail(w, http.StatusNotFound, "ApiResourceNotFoundException", "API resource not found.")
	}
}

func (a *Azure) withPR(w http.ResponseWriter, id string, f func(*AzurePR)) {
	n, err := strconv.Atoi(id)
	p := a.find(n)
	if err != nil || p == nil {
		azFail(w, http.StatusNotFound, "GitPullRequestNotFoundException", "TF401180: The requested pull request was not found.")
		return
	}
	f(p)
}

// location is an ApiResourceLocation as OPTIONS {service}/_apis lists it.
func location(id, area, resource, route, minV, maxV, released string, resourceVersion int) map[string]any {
	return map[string]any{
		"id": id, "area": area, "resourceName": resource, "routeTemplate": route,
		"resourceVersion": resourceVersion, "minVersion": minV, "maxVersion": maxV, "releasedVersion": released,
	}
}

// locations is what OPTIONS {org}/_apis (or vssps/{org}/_apis) returns:
// the service lists hundreds, the fake those gitship's calls resolve.
func (a *Azure) locations(vssps bool) map[string]any {
	var v []any
	if vssps {
		v = []any{
			location(locResourceAreas, "Location", "ResourceAreas", "_apis/{resource}/{areaId}", "3.2", "7.2", "0.0", 1),
			location(locIdentities, "IMS", "Identities", "_apis/{resource}/{identityId}", "1.0", "7.2", "0.0", 1),
		}
	} else {
		const prs = "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/{resource}"
		v = []any{
			location(locResourceAreas, "Location", "ResourceAreas", "_apis/{resource}/{areaId}", "3.2", "7.2", "0.0", 1),
			location(locConnectionData, "Location", "ConnectionData", "_apis/{resource}", "1.0", "7.2", "0.0", 1),
			location(locPullRequests, "git", "pullRequests", "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}", "1.0", "7.2", "7.1", 1),
			location(locPullRequestID, "git", "pullRequests", "{project}/_apis/{area}/{resource}/{pullRequestId}", "1.0", "7.2", "7.1", 1),
			location(locPRLabels, "git", "labels", prs+"/{labelIdOrName}", "5.0", "7.2", "0.0", 1),
			location(locPRReviewers, "git", "reviewers", prs+"/{reviewerId}", "1.0", "7.2", "7.1", 1),
		}
	}
	return map[string]any{"count": len(v), "value": v}
}

func (a *Azure) resourceAreas(w http.ResponseWriter) {
	v := []any{
		map[string]any{"id": AzureGitAreaID, "name": "git", "locationUrl": a.srv.URL + "/" + a.cfg.Org + "/"},
		map[string]any{"id": AzureIdentityAreaID, "name": "IMS", "locationUrl": a.srv.URL + "/vssps/" + a.cfg.Org + "/"},
		map[string]any{"id": "79134c72-4a58-4b42-976c-04e7115f32bf", "name": "core", "locationUrl": a.srv.URL + "/" + a.cfg.Org + "/"},
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(v), "value": v})
}

func (a *Azure) readIdentities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter, value := q.Get("searchFilter"), q.Get("filterValue")
	out := []any{}
	for _, i := range append([]AzureIdentity{a.cfg.User}, a.cfg.Identities...) {
		var match bool
		switch strings.ToLower(filter) {
		case "general":
			match = strings.EqualFold(i.UniqueName, value) || strings.EqualFold(i.DisplayName, value)
		case "mailaddress", "accountname":
			match = strings.EqualFold(i.UniqueName, value)
		case "displayname":
			match = strings.EqualFold(i.DisplayName, value)
		}
		if match {
			out = append(out, a.identityJSON(i))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}

func (a *Azure) identityJSON(i AzureIdentity) map[string]any {
	return map[string]any{
		"id":                  i.ID,
		"descriptor":          "Microsoft.IdentityModel.Claims.ClaimsIdentity;example.com\\" + i.UniqueName,
		"subjectDescriptor":   "aad." + base64.RawURLEncoding.EncodeToString([]byte(i.ID)),
		"providerDisplayName": i.DisplayName,
		"isActive":            true,
		"isContainer":         false,
		"members":             []any{},
		"memberOf":            []any{},
		"memberIds":           []any{},
		"properties": map[string]any{
			"Account": map[string]any{"$type": "System.String", "$value": i.UniqueName},
			"Mail":    map[string]any{"$type": "System.String", "$value": i.UniqueName},
		},
		"resourceVersion": 2,
		"metaTypeId":      0,
	}
}

// list serves GetPullRequests. As the service, it cuts descriptions to
// 400 characters and lists active pull requests when no status is given.
func (a *Azure) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("searchCriteria.status")
	if status == "" {
		status = "active"
	}
	out := []any{}
	for i := len(a.prs) - 1; i >= 0; i-- {
		p := a.prs[i]
		if status != "all" && !strings.EqualFold(p.Status, status) {
			continue
		}
		if s := q.Get("searchCriteria.sourceRefName"); s != "" && s != p.SourceRefName {
			continue
		}
		if t := q.Get("searchCriteria.targetRefName"); t != "" && t != p.TargetRefName {
			continue
		}
		if c := q.Get("searchCriteria.creatorId"); c != "" && !strings.EqualFold(c, p.CreatedBy) {
			continue
		}
		j := a.json(p)
		if d := []rune(p.Description); len(d) > 400 {
			j["description"] = string(d[:400])
		}
		out = append(out, j)
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < len(out) {
		out = out[:top]
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}

type azRef struct {
	ID *string `json:"id"`
}

func (a *Azure) create(w http.ResponseWriter, body []byte) {
	var in struct {
		SourceRefName string  `json:"sourceRefName"`
		TargetRefName string  `json:"targetRefName"`
		Title         *string `json:"title"`
		Description   *string `json:"description"`
		IsDraft       *bool   `json:"isDraft"`
		Labels        []struct {
			Name string `json:"name"`
		} `json:"labels"`
		Reviewers         []azRef         `json:"reviewers"`
		CompletionOptions map[string]any  `json:"completionOptions"`
		AutoCompleteSetBy json.RawMessage `json:"autoCompleteSetBy"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		azFail(w, http.StatusBadRequest, "VssPropertyValidationException", "The request body could not be read: "+err.Error())
		return
	}
	for _, ref := range []string{in.SourceRefName, in.TargetRefName} {
		if !strings.HasPrefix(ref, "refs/heads/") || ref == "refs/heads/" {
			azFail(w, http.StatusBadRequest, "GitPullRequestCannotBeActivated", "TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches")
			return
		}
	}
	if in.SourceRefName == in.TargetRefName {
		azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "The source and target branch of a pull request cannot be the same.")
		return
	}
	if in.Title == nil || strings.TrimSpace(*in.Title) == "" {
		azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "The pull request title cannot be empty. Parameter name: title")
		return
	}
	desc := deref(in.Description)
	if !descFits(w, desc) {
		return
	}
	for _, p := range a.prs {
		if p.Status == "active" && p.SourceRefName == in.SourceRefName && p.TargetRefName == in.TargetRefName {
			azFail(w, http.StatusConflict, "GitPullRequestExistsException", "TF401179: An active pull request for the source and target branch already exists.")
			return
		}
	}
	p := &AzurePR{
		ID:                len(a.prs) + 1,
		Status:            "active",
		Title:             *in.Title,
		Description:       desc,
		SourceRefName:     in.SourceRefName,
		TargetRefName:     in.TargetRefName,
		IsDraft:           in.IsDraft != nil && *in.IsDraft,
		CreatedBy:         a.cfg.User.ID,
		CompletionOptions: in.CompletionOptions,
		Created:           time.Now().UTC(),
	}
	for _, l := range in.Labels {
		if l.Name == "" {
			azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "A label needs a name. Parameter name: labels")
			return
		}
		if !slices.ContainsFunc(p.Labels, func(s string) bool { return strings.EqualFold(s, l.Name) }) {
			p.Labels = append(p.Labels, l.Name)
		}
	}
	for _, rv := range in.Reviewers {
		if !a.validReviewer(w, rv.ID) {
			return
		}
		if !slices.Contains(p.Reviewers, strings.ToLower(*rv.ID)) {
			p.Reviewers = append(p.Reviewers, strings.ToLower(*rv.ID))
		}
	}
	a.prs = append(a.prs, p)
	writeJSON(w, http.StatusCreated, a.json(p))
}

func (a *Azure) validReviewer(w http.ResponseWriter, id *string) bool {
	if id == nil || !isGUID(*id) {
		azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "A reviewer must be given by identity id. Parameter name: reviewers")
		return false
	}
	return true
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isGUID(s string) bool { return guidRE.MatchString(s) }

func descFits(w http.ResponseWriter, d string) bool {
	if utf8.RuneCountInString(d) > 4000 {
		azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "The description of a pull request cannot be longer than 4000 characters. Parameter name: description")
		return false
	}
	return true
}

// updatable are the fields Update Pull Request takes; the docs say others
// are refused or ignored: the fake refuses them.
var updatable = []string{"status", "title", "description", "completionOptions", "mergeOptions", "autoCompleteSetBy", "targetRefName", "isDraft"}

func (a *Azure) update(w http.ResponseWriter, p *AzurePR, body []byte) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		azFail(w, http.StatusBadRequest, "VssPropertyValidationException", "The request body could not be read: "+err.Error())
		return
	}
	for k := range fields {
		if !slices.Contains(updatable, k) {
			azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "The pull request field "+k+" cannot be updated. Parameter name: "+k)
			return
		}
	}
	var in struct {
		Status            *string         `json:"status"`
		Title             *string         `json:"title"`
		Description       *string         `json:"description"`
		CompletionOptions map[string]any  `json:"completionOptions"`
		AutoCompleteSetBy *azRef          `json:"autoCompleteSetBy"`
		TargetRefName     *string         `json:"targetRefName"`
		IsDraft           *bool           `json:"isDraft"`
		MergeOptions      json.RawMessage `json:"mergeOptions"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		azFail(w, http.StatusBadRequest, "VssPropertyValidationException", "The request body could not be read: "+err.Error())
		return
	}
	if in.Description != nil && !descFits(w, *in.Description) {
		return
	}
	if in.Title != nil && strings.TrimSpace(*in.Title) == "" {
		azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "The pull request title cannot be empty. Parameter name: title")
		return
	}
	if in.AutoCompleteSetBy != nil {
		id := ""
		if in.AutoCompleteSetBy.ID != nil {
			id = *in.AutoCompleteSetBy.ID
		}
		switch _, known := a.identity(id); {
		case id == "00000000-0000-0000-0000-000000000000":
			p.AutoCompleteSetBy = "" // cancels auto-complete
		case !known:
			azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "The identity "+id+" set as autoCompleteSetBy does not exist. Parameter name: autoCompleteSetBy")
			return
		default:
			p.AutoCompleteSetBy = strings.ToLower(id)
		}
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.CompletionOptions != nil {
		p.CompletionOptions = in.CompletionOptions
	}
	if in.TargetRefName != nil {
		p.TargetRefName = *in.TargetRefName
	}
	if in.IsDraft != nil {
		p.IsDraft = *in.IsDraft
	}
	if in.Status != nil && *in.Status != p.Status {
		p.Status = *in.Status
		if p.Status != "active" {
			p.Closed = time.Now().UTC()
		}
	}
	writeJSON(w, http.StatusOK, a.json(p))
}

func (a *Azure) addLabel(w http.ResponseWriter, p *AzurePR, body []byte) {
	var in struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(body, &in) != nil || in.Name == "" {
		azFail(w, http.StatusBadRequest, "InvalidArgumentValueException", "A label needs a name. Parameter name: label")
		return
	}
	if !slices.ContainsFunc(p.Labels, func(s string) bool { return strings.EqualFold(s, in.Name) }) {
		p.Labels = append(p.Labels, in.Name)
	}
	writeJSON(w, http.StatusOK, a.labelJSON(in.Name))
}

func (a *Azure) addReviewers(w http.ResponseWriter, p *AzurePR, body []byte) {
	var in []azRef
	if err := json.Unmarshal(body, &in); err != nil {
		azFail(w, http.StatusBadRequest, "VssPropertyValidationException", "The request body could not be read: "+err.Error())
		return
	}
	for _, rv := range in {
		if !a.validReviewer(w, rv.ID) {
			return
		}
	}
	out := []any{}
	for _, rv := range in {
		id := strings.ToLower(*rv.ID)
		if !slices.Contains(p.Reviewers, id) {
			p.Reviewers = append(p.Reviewers, id)
		}
		out = append(out, a.reviewerJSON(id))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}

func (a *Azure) putReviewer(w http.ResponseWriter, p *AzurePR, id string, body []byte) {
	if !a.validReviewer(w, &id) {
		return
	}
	id = strings.ToLower(id)
	if !slices.Contains(p.Reviewers, id) {
		p.Reviewers = append(p.Reviewers, id)
	}
	writeJSON(w, http.StatusOK, a.reviewerJSON(id))
}

func (a *Azure) identityRef(id string) map[string]any {
	i, ok := a.identity(id)
	if !ok {
		i = AzureIdentity{ID: id}
	}
	return map[string]any{
		"id":          i.ID,
		"displayName": i.DisplayName,
		"uniqueName":  i.UniqueName,
		"url":         a.srv.URL + "/vssps/" + a.cfg.Org + "/_apis/Identities/" + i.ID,
		"imageUrl":    a.OrgURL() + "/_apis/GraphProfile/MemberAvatars/aad." + i.ID,
		"descriptor":  "aad." + i.ID,
	}
}

func (a *Azure) reviewerJSON(id string) map[string]any {
	m := a.identityRef(id)
	m["vote"] = 0
	m["hasDeclined"] = false
	m["isFlagged"] = false
	m["reviewerUrl"] = a.repoAPI() + "/pullRequests/reviewers/" + id
	return m
}

func (a *Azure) labelJSON(name string) map[string]any {
	return map[string]any{"id": fmt.Sprintf("%08x-0000-4000-8000-000000000000", len(name)), "name": name, "active": true}
}

func (a *Azure) repoAPI() string {
	return a.OrgURL() + "/" + a.projectID + "/_apis/git/repositories/" + a.repoID
}

func azTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.0000000Z") }

// json renders a pull request as GitPullRequest.
func (a *Azure) json(p *AzurePR) map[string]any {
	reviewers := []any{}
	for _, id := range p.Reviewers {
		reviewers = append(reviewers, a.reviewerJSON(id))
	}
	labels := []any{}
	for _, l := range p.Labels {
		labels = append(labels, a.labelJSON(l))
	}
	mergeStatus := "succeeded"
	if p.Status == "active" {
		mergeStatus = "queued"
	}
	m := map[string]any{
		"repository": map[string]any{
			"id":   a.repoID,
			"name": a.cfg.Repo,
			"url":  a.repoAPI(),
			"project": map[string]any{
				"id": a.projectID, "name": a.cfg.Project, "state": "wellFormed", "visibility": "private",
			},
		},
		"pullRequestId":      p.ID,
		"codeReviewId":       p.ID,
		"status":             p.Status,
		"createdBy":          a.identityRef(p.CreatedBy),
		"creationDate":       azTime(p.Created),
		"title":              p.Title,
		"description":        p.Description,
		"sourceRefName":      p.SourceRefName,
		"targetRefName":      p.TargetRefName,
		"mergeStatus":        mergeStatus,
		"isDraft":            p.IsDraft,
		"mergeId":            "f5fc8381-3fb2-49fe-8a0d-27dcc2d6ef82",
		"reviewers":          reviewers,
		"labels":             labels,
		"url":                a.repoAPI() + "/pullRequests/" + strconv.Itoa(p.ID),
		"supportsIterations": true,
	}
	if p.AutoCompleteSetBy != "" {
		m["autoCompleteSetBy"] = a.identityRef(p.AutoCompleteSetBy)
	}
	if p.LastMergeCommit != "" {
		m["lastMergeCommit"] = map[string]any{"commitId": p.LastMergeCommit, "url": a.repoAPI() + "/commits/" + p.LastMergeCommit}
	}
	if p.CompletionOptions != nil {
		m["completionOptions"] = p.CompletionOptions
	}
	if !p.Closed.IsZero() {
		m["closedDate"] = azTime(p.Closed)
		m["closedBy"] = a.identityRef(a.cfg.User.ID)
	}
	return m
}
