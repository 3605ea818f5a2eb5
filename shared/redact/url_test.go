package redact

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestURL(t *testing.T) {
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
		{"https://x-access-token:s3cret@github.com/acme/gitops", "https://github.com/acme/gitops"},
		{"https://github.com/acme/gitops", "https://github.com/acme/gitops"},
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
		{"https://u:p@ss@github.com/acme/gitops", RedactedURL},
		{"https://u:pa/ss@github.com/acme/gitops", RedactedURL},
		{"https://u:p%zz@github.com/acme/gitops", RedactedURL},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestURLsIn: every URL in a text is printed as URL prints it alone.
func TestURLsIn(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"clone https://x-access-token:ghs_abc@github.com/o/r.git: failed", "clone https://github.com/o/r.git: failed"},
		{"https://ghp_tok@github.com/o/r", "https://github.com/o/r"},
		{"HTTP://user:pass@host/x and http://a:b@c/d", "http://host/x and http://c/d"},
		{"ssh://git:secret@host/x", "ssh://host/x"},
		{"ssh://git@host/x", "ssh://host/x"},
		{"git@github.com:o/r.git", "git@github.com:o/r.git"},
		{"no URL here: a@b", "no URL here: a@b"},
		{`parse "https://u:p@ss/w#rd@github.com/o/r": invalid userinfo`, `parse "<redacted URL>": invalid userinfo`},
		{"ssh://git:a:b@c@host/x", RedactedURL},
		{"ssh://git@host/x@y", RedactedURL},
		// A quoted URL is taken to its closing quote: a space in the
		// password does not cut it.
		{`parse "https://bot:p ss@example.com/r.git": net/url: invalid userinfo`, `parse "<redacted URL>": net/url: invalid userinfo`},
		{`push "https://bot:tok3n@example.com/r.git" failed`, `push "https://example.com/r.git" failed`},
		{`open "https://u:pw@h/x`, `open "https://h/x`},
		// Punctuation after a URL stays, and is no part of it.
		{"see (https://u:tok3n@h/x).", "see (https://h/x)."},
		{"remote 'https://u:tok3n@h/x', retrying", "remote 'https://h/x', retrying"},
		// A scheme glued to a word is still a URL.
		{"x_https://u:tok3n@h/x", "x_https://h/x"},
		// Fail closed, as URL does.
		{"fetch https://example.com/r.git?x=a@b: 404", "fetch " + RedactedURL + ": 404"},
		{"fetch https://u:p%zz@h/r", "fetch " + RedactedURL},
		{"plain https://github.com/o/r and /srv/a@b and https://", "plain https://github.com/o/r and /srv/a@b and https://"},
		// user:password@host with no scheme; not user@host:path, an
		// image by digest, prose or an e-mail address.
		{"push bot:s3cret@registry.example.com/app: denied", "push " + RedactedURL + ": denied"},
		{"push (bot:s3cret@registry.example.com/app)", "push (" + RedactedURL + ")"},
		{"pin ghcr.io/acme/app:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"pin ghcr.io/acme/app:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"Author: Bot <bot@example.com>, note: see a@b", "Author: Bot <bot@example.com>, note: see a@b"},
	} {
		if got := URLsIn(tc.in); got != tc.want {
			t.Errorf("URLsIn(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestURLCredentials(t *testing.T) {
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
		got := URLCredentials(tt.in)
		slices.Sort(got)
		want := slices.Clone(tt.want)
		want = slices.Compact(func() []string { slices.Sort(want); return want }())
		if !slices.Equal(got, want) {
			t.Errorf("URLCredentials(%q) = %q, want %q", tt.in, got, want)
		}
		printed := []string{URL(tt.in), URLsIn(`remote "` + tt.in + `": failed`)}
		if !strings.ContainsFunc(tt.in, unicode.IsSpace) {
			printed = append(printed, URLsIn("remote "+tt.in+": failed"))
		}
		for _, c := range got {
			for _, s := range printed {
				if strings.Contains(s, c) {
					t.Errorf("%q is printed as %q, still holding %q", tt.in, s, c)
				}
			}
		}
	}
}
