package forge

import (
	"errors"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"github https", "https://github.com/o/r", "github"},
		{"github https .git", "https://github.com/o/r.git", "github"},
		{"github token in URL", "https://x-access-token:secret@github.com/o/r.git", "github"},
		{"github scp", "git@github.com:o/r.git", "github"},
		{"github ssh", "ssh://git@github.com/o/r", "github"},
		{"github ssh 443", "ssh://git@ssh.github.com:443/o/r.git", "github"},
		{"github host case", "https://GitHub.com/o/r", "github"},
		{"enterprise is not detected", "https://ghe.example.com/o/r.git", "none"},
		{"azure https", "https://dev.azure.com/org/proj/_git/repo", "azure"},
		{"azure https user", "https://org@dev.azure.com/org/proj/_git/repo", "azure"},
		{"azure ssh", "git@ssh.dev.azure.com:v3/org/proj/repo", "azure"},
		{"azure ssh url", "ssh://git@ssh.dev.azure.com/v3/org/proj/repo", "azure"},
		{"visualstudio", "https://org.visualstudio.com/proj/_git/repo", "azure"},
		{"visualstudio ssh", "org@vs-ssh.visualstudio.com:v3/org/proj/repo", "azure"},
		{"file", "file:///tmp/gitops", "none"},
		{"bare path", "/tmp/gitops", "none"},
		{"relative path", "../gitops", "none"},
		{"windows path", `C:\gitops`, "none"},
		{"gitlab", "https://gitlab.com/o/r.git", "none"},
		{"empty", "", "none"},
		{"lookalike host", "https://github.com.evil.example/o/r", "none"},
		{"azure lookalike", "https://dev.azure.com.evil.example/o/p/_git/r", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect(tt.url); got != tt.want {
				t.Errorf("Detect(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestParseGitHubURL(t *testing.T) {
	tests := []struct {
		name, url string
		want      gitHubRepo
		err       bool
	}{
		{"https", "https://github.com/o/r", gitHubRepo{"github.com", "o", "r"}, false},
		{"https .git", "https://github.com/o/r.git", gitHubRepo{"github.com", "o", "r"}, false},
		{"https trailing slash", "https://github.com/o/r/", gitHubRepo{"github.com", "o", "r"}, false},
		{"scp", "git@github.com:o/r.git", gitHubRepo{"github.com", "o", "r"}, false},
		{"ssh", "ssh://git@github.com/o/r", gitHubRepo{"github.com", "o", "r"}, false},
		{"enterprise", "https://ghe.example.com/team/app.git", gitHubRepo{"ghe.example.com", "team", "app"}, false},
		{"enterprise scp", "git@ghe.example.com:team/app.git", gitHubRepo{"ghe.example.com", "team", "app"}, false},
		{"no repo", "https://github.com/o", gitHubRepo{}, true},
		{"too deep", "https://github.com/o/r/tree/main", gitHubRepo{}, true},
		{"file", "file:///x/y", gitHubRepo{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGitHubURL(tt.url)
			if tt.err {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("parseGitHubURL(%q) = %+v, %v; want ErrUnsupported", tt.url, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseGitHubURL(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
			}
		})
	}
}

func TestParseAzureURL(t *testing.T) {
	dev := func(org, proj, repo string) azureRepo {
		return azureRepo{OrgURL: "https://dev.azure.com/" + org, Org: org, Project: proj, Name: repo}
	}
	vs := func(org, proj, repo string) azureRepo {
		return azureRepo{OrgURL: "https://" + org + ".visualstudio.com", Org: org, Project: proj, Name: repo}
	}
	tests := []struct {
		name, url string
		want      azureRepo
		err       bool
	}{
		{"https", "https://dev.azure.com/org/proj/_git/repo", dev("org", "proj", "repo"), false},
		{"https user", "https://org@dev.azure.com/org/proj/_git/repo", dev("org", "proj", "repo"), false},
		{"https escaped project", "https://dev.azure.com/org/My%20Project/_git/repo", dev("org", "My Project", "repo"), false},
		{"https project named as repo", "https://dev.azure.com/org/_git/repo", dev("org", "repo", "repo"), false},
		{"ssh", "git@ssh.dev.azure.com:v3/org/proj/repo", dev("org", "proj", "repo"), false},
		{"ssh url", "ssh://git@ssh.dev.azure.com/v3/org/proj/repo", dev("org", "proj", "repo"), false},
		{"visualstudio", "https://org.visualstudio.com/proj/_git/repo", vs("org", "proj", "repo"), false},
		{"visualstudio DefaultCollection", "https://org.visualstudio.com/DefaultCollection/proj/_git/repo", vs("org", "proj", "repo"), false},
		{"visualstudio ssh", "org@vs-ssh.visualstudio.com:v3/org/proj/repo", vs("org", "proj", "repo"), false},
		{"no _git", "https://dev.azure.com/org/proj/repo", azureRepo{}, true},
		{"ssh no v3", "git@ssh.dev.azure.com:org/proj/repo", azureRepo{}, true},
		{"github", "https://github.com/o/r", azureRepo{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAzureURL(tt.url)
			if tt.err {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("parseAzureURL(%q) = %+v, %v; want ErrUnsupported", tt.url, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseAzureURL(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
			}
		})
	}
	if got, want := dev("org", "My Project", "repo").WebURL(7), "https://dev.azure.com/org/My%20Project/_git/repo/pullrequest/7"; got != want {
		t.Errorf("WebURL(7) = %q, want %q", got, want)
	}
}

func TestErrorsHideCredentialsInURL(t *testing.T) {
	_, err := parseGitHubURL("https://x-access-token:s3cret@github.com/only-owner")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("parseGitHubURL error = %v; want an error without the credentials", err)
	}
}
