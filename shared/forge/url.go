package forge

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gitship/gitship/shared/redact"
)

// splitRepoURL returns the lower-cased host and the path of a remote URL
// (scheme://[user@]host[:port]/path or scp-like [user@]host:path); ok is
// false for file:// URLs, bare paths and what does not parse.
func splitRepoURL(raw string) (host, path string, ok bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", false
	}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "file" || u.Host == "" {
			return "", "", false
		}
		return strings.ToLower(u.Hostname()), u.Path, true
	}
	// scp-like: a colon before any slash, and not a Windows drive (C:\).
	colon := strings.Index(raw, ":")
	if colon <= 0 || strings.Contains(raw[:colon], "/") || (colon == 1 && len(raw) > 2 && (raw[2] == '\\' || raw[2] == '/')) {
		return "", "", false
	}
	host = raw[:colon]
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	if host == "" {
		return "", "", false
	}
	return strings.ToLower(host), raw[colon+1:], true
}

func isGitHubHost(host string) bool {
	return host == "github.com" || host == "www.github.com" || host == "ssh.github.com"
}

func isAzureHost(host string) bool {
	return host == "dev.azure.com" || host == "ssh.dev.azure.com" ||
		strings.HasSuffix(host, ".visualstudio.com")
}

// segments splits a URL path into its unescaped, non-empty parts.
func segments(path string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(path, "/") {
		if s == "" {
			continue
		}
		v, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// gitHubRepo is a repository on GitHub or GitHub Enterprise.
type gitHubRepo struct {
	Host, Owner, Name string
}

// parseGitHubURL reads owner and name from https://host/o/r(.git),
// git@host:o/r.git and ssh://git@host/o/r, on any host.
func parseGitHubURL(raw string) (gitHubRepo, error) {
	host, path, ok := splitRepoURL(raw)
	if !ok {
		return gitHubRepo{}, fmt.Errorf("github repository %q: not a remote URL: %w", redact.URL(raw), ErrUnsupported)
	}
	seg, err := segments(path)
	if err != nil || len(seg) != 2 {
		return gitHubRepo{}, fmt.Errorf("github repository %q: want host/owner/name: %w", redact.URL(raw), ErrUnsupported)
	}
	name := strings.TrimSuffix(seg[1], ".git")
	if seg[0] == "" || name == "" {
		return gitHubRepo{}, fmt.Errorf("github repository %q: want host/owner/name: %w", redact.URL(raw), ErrUnsupported)
	}
	return gitHubRepo{Host: host, Owner: seg[0], Name: name}, nil
}

// azureRepo is a repository on Azure DevOps Services.
type azureRepo struct {
	OrgURL  string // https://dev.azure.com/{org} or https://{org}.visualstudio.com
	Org     string
	Project string
	Name    string
}

// WebURL is the page of pull request id.
func (r azureRepo) WebURL(id int) string {
	return fmt.Sprintf("%s/%s/_git/%s/pullrequest/%d", r.OrgURL, url.PathEscape(r.Project), url.PathEscape(r.Name), id)
}

// parseAzureURL reads organization, project and repository from
//
//	https://[user@]dev.azure.com/{org}/{project}/_git/{repo}
//	https://{org}.visualstudio.com/[DefaultCollection/]{project}/_git/{repo}
//	git@ssh.dev.azure.com:v3/{org}/{project}/{repo}  (and ssh://)
//	{org}@vs-ssh.visualstudio.com:v3/{org}/{project}/{repo}
//
// A URL with no project ({org}/_git/{repo}) names the project after the
// repository, as Azure DevOps does.
func parseAzureURL(raw string) (azureRepo, error) {
	host, path, ok := splitRepoURL(raw)
	bad := func(why string) (azureRepo, error) {
		return azureRepo{}, fmt.Errorf("azure repository %q: %s: %w", redact.URL(raw), why, ErrUnsupported)
	}
	if !ok {
		return bad("not a remote URL")
	}
	seg, err := segments(path)
	if err != nil {
		return bad("bad path")
	}
	gitRepo := func(org, orgURL string, seg []string) (azureRepo, error) {
		switch {
		case len(seg) == 3 && seg[1] == "_git":
			return azureRepo{OrgURL: orgURL, Org: org, Project: seg[0], Name: seg[2]}, nil
		case len(seg) == 2 && seg[0] == "_git":
			return azureRepo{OrgURL: orgURL, Org: org, Project: seg[1], Name: seg[1]}, nil
		}
		return bad("want {project}/_git/{repository}")
	}
	switch {
	case host == "ssh.dev.azure.com" || host == "vs-ssh.visualstudio.com":
		if len(seg) != 4 || seg[0] != "v3" {
			return bad("want v3/{organization}/{project}/{repository}")
		}
		org := seg[1]
		orgURL := "https://dev.azure.com/" + url.PathEscape(org)
		if host == "vs-ssh.visualstudio.com" {
			orgURL = "https://" + org + ".visualstudio.com"
		}
		return azureRepo{OrgURL: orgURL, Org: org, Project: seg[2], Name: seg[3]}, nil
	case host == "dev.azure.com":
		if len(seg) < 1 {
			return bad("no organization")
		}
		return gitRepo(seg[0], "https://dev.azure.com/"+url.PathEscape(seg[0]), seg[1:])
	case strings.HasSuffix(host, ".visualstudio.com"):
		org := strings.TrimSuffix(host, ".visualstudio.com")
		if len(seg) > 0 && strings.EqualFold(seg[0], "DefaultCollection") {
			seg = seg[1:]
		}
		return gitRepo(org, "https://"+org+".visualstudio.com", seg)
	}
	return bad("not an Azure DevOps host")
}
