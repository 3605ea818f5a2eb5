package ci

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestStripCredentials(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://x-access-token:ghs_abc123@github.com/acme/gitops.git", "https://github.com/acme/gitops.git"},
		{"https://ghp_0123456789abcdef0123@github.com/acme/app", "https://github.com/acme/app"},
		{"https://bot:p%40ss%2Fw%23rd%20x@example.com/r.git", "https://example.com/r.git"},
		{"ssh://git@example.com:2222/r.git", "ssh://example.com:2222/r.git"},
		{"https://github.com/acme/app", "https://github.com/acme/app"},
		{"/srv/git/gitops.git", "/srv/git/gitops.git"},
		{"../gitops", "../gitops"},
		{"file:///srv/git/gitops.git", "file:///srv/git/gitops.git"},
		{"git@github.com:acme/app.git", "github.com:acme/app.git"},
		{"ghcr.io/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"ghcr.io/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"", ""},
		// What does not parse, or could hide a password, is not printed.
		{"https://bot:pa/ss@example.com/r.git", RedactedURL},  // invalid port "pa"
		{"https://bot:123/ss@example.com/r.git", RedactedURL}, // parses, host bot:123: the @ is left over
		{"https://bot:p@ss@example.com/r.git", RedactedURL},
		{"https://bot:p#ss@example.com/r.git", RedactedURL},
		{"https://bot:p ss@example.com/r.git", RedactedURL},
		{"https://bot:s3cret@exa mple.com/r.git", RedactedURL},
		{"https://bot:s3cret@example.com/r\n.git", RedactedURL},
		{"bot:s3cret@example.com/r.git", RedactedURL},
		{"https://example.com/r.git?x=a@b", RedactedURL},
	}
	for _, tt := range tests {
		if got := StripCredentials(tt.in); got != tt.want {
			t.Errorf("StripCredentials(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"https://x-access-token:ghs_abc123@github.com/acme/gitops.git", []string{"ghs_abc123"}},
		{"https://ghp_0123456789abcdef0123@github.com/acme/app", []string{"ghp_0123456789abcdef0123"}},
		{"https://bot:p%40ss%2Fw%23rd%20x@example.com/r.git", []string{"p%40ss%2Fw%23rd%20x", "p@ss/w#rd x", "p%40ss%2Fw%23rd%20x", "p%40ss%2Fw%23rd+x"}},
		{"https://bot:pa/ss@example.com/r.git", []string{"pa/ss", "pa%2Fss"}},
		{"https://bot:p@ss@example.com/r.git", []string{"p@ss", "p%40ss"}},
		{"https://bot:p#ss@example.com/r.git", []string{"p#ss", "p%23ss"}},
		{"https://bot:p ss w@example.com/r.git", []string{"p ss w", "p%20ss%20w", "p+ss+w"}},
		{"user:t0ken-x@registry.example.com/app", []string{"t0ken-x"}},
		{"bot:p@ss/w#rd x@127.0.0.1:1/app", []string{"p@ss/w#rd x", "p%40ss%2Fw%23rd%20x", "p%40ss%2Fw%23rd+x"}},
		// Not secrets: user names, paths, digests.
		{"https://acme@dev.azure.com/acme/app/_git/gitops", nil},
		{"git@github.com:acme/app.git", nil},
		{"ssh://git@example.com/r.git", nil},
		{"/srv/git/gitops.git", nil},
		{"ghcr.io/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", nil},
		{"alpine:3.19.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", nil},
		{"https://github.com/acme/my-long-app-name@v1", nil},
		{"Deploy the thing: see foo@bar", nil},
		{"note:see foo@bar baz", nil},
		{"https://bot:ab@example.com/r.git", nil}, // too short to mask safely; stripped from the URL still
	}
	for _, tt := range tests {
		got := Credentials(tt.in)
		slices.Sort(got)
		want := slices.Clone(tt.want)
		want = slices.Compact(func() []string { slices.Sort(want); return want }())
		if !slices.Equal(got, want) {
			t.Errorf("Credentials(%q) = %q, want %q", tt.in, got, want)
		}
		for _, c := range got {
			if s := StripCredentials(tt.in); strings.Contains(s, c) {
				t.Errorf("StripCredentials(%q) = %q still holds %q", tt.in, s, c)
			}
		}
	}
}

// TestContextCredentials: a token in the repository URL a platform gives
// is found, and the URL kept in the Context is stripped of it.
func TestContextCredentials(t *testing.T) {
	env := Env{"TF_BUILD": "True", "BUILD_REPOSITORY_URI": "https://acme:azure-pat-0123456789@dev.azure.com/acme/app/_git/app"}
	p, err := Detect(env, Options{Step: "build", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Context()
	if c.RepositoryURL != "https://dev.azure.com/acme/app/_git/app" {
		t.Errorf("RepositoryURL = %q", c.RepositoryURL)
	}
	if got := c.Credentials(); !slices.Contains(got, "azure-pat-0123456789") {
		t.Errorf("Credentials() = %q, want the PAT", got)
	}
}

// TestOriginCredentials: a token in the checkout's origin remote, in a URL
// that does not parse, is found whole and the URL is not kept: the build
// label org.opencontainers.image.source, the pull request body and the
// summaries, which print Context.RepositoryURL, print RedactedURL.
func TestOriginCredentials(t *testing.T) {
	for _, tt := range []struct{ remote, url, secret string }{
		{"https://bot:p@ss/w#rd x@github.com/acme/shop.git", RedactedURL, "p@ss/w#rd x"},
		{"https://bot:tok%2Fen%40x@github.com/acme/shop.git", "https://github.com/acme/shop.git", "tok/en@x"},
	} {
		dir := t.TempDir()
		cmd := exec.Command("git", "init", "-q", dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
		if out, err := exec.Command("git", "-C", dir, "remote", "add", "origin", tt.remote).CombinedOutput(); err != nil {
			t.Fatalf("git remote add: %v\n%s", err, out)
		}
		p, err := Detect(Env{}, Options{Step: "build", Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		c := p.Context()
		if c.RepositoryURL != tt.url {
			t.Errorf("origin %q: RepositoryURL = %q, want %q", tt.remote, c.RepositoryURL, tt.url)
		}
		if !slices.Contains(c.Credentials(), tt.secret) {
			t.Errorf("origin %q: Credentials() = %q, want %q among them", tt.remote, c.Credentials(), tt.secret)
		}
	}
}
