package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzURL: what is printed of a URL holds no user info, and none of the
// credentials found in it; URLsIn prints a URL alone as URL does.
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"https://x-access-token:ghs_abc123@github.com/acme/gitops.git", "https://bot:p@ss/w#rd x@example.com/r",
		"git@github.com:acme/app.git", "bot:s3cret@registry.example.com/app", "file:///srv/git/r.git", "../gitops",
		"ghcr.io/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"https://bot:%zz@example.com/r", "HTTPS://u:p4ssw0rd@[::1]:8080/r?x=1#f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := URL(raw)
		if schemeRE.MatchString(raw) && !strings.ContainsAny(raw, "\t\n\f\r ") && strings.TrimRight(raw, trailing) == raw {
			if in := URLsIn(raw); in != out {
				t.Fatalf("URLsIn(%q) = %q, URL = %q", raw, in, out)
			}
		}
		if out == RedactedURL {
			return
		}
		if creds := URLCredentials(out); len(creds) > 0 {
			t.Fatalf("URL(%q) = %q still holds %q", raw, out, creds)
		}
		if _, _, ok := userinfo(out); ok && strings.Contains(out, "://") {
			t.Fatalf("URL(%q) = %q still has user info", raw, out)
		}
		for _, c := range URLCredentials(raw) {
			if !strings.Contains(out, c) {
				continue
			}
			// Printed because it is the credential, not because the rest
			// of the URL spells it too (a scheme or host of the same
			// digits, or the parser's re-encoding of one, "%B0" then
			// "000..."): with the user info's copy swapped for another
			// string, it must be gone.
			other := ""
			for _, r := range "xyzq" {
				if !strings.ContainsRune(c, r) {
					other = strings.Repeat(string(r), len(c))
					break
				}
			}
			swapped := strings.ReplaceAll(raw, c, other)
			if i, j := strings.Index(raw, "://"), strings.LastIndex(raw, "@"); i >= 0 && j > i {
				swapped = raw[:i+3] + strings.ReplaceAll(raw[i+3:j], c, other) + raw[j:]
			}
			if !strings.Contains(URL(swapped), c) {
				t.Fatalf("URL(%q) = %q prints %q", raw, out, c)
			}
		}
	})
}

// FuzzURLsIn: the user info of a URL in a line never survives URLsIn,
// whatever the password holds but white space: the URL is printed without
// it, or as RedactedURL.
func FuzzURLsIn(f *testing.F) {
	for _, s := range [][2]string{
		{"x-access-token", "s3cret"}, {"u", "p@ss/w#rd?"}, {"", "ghp_abcdef"}, {"a:b", "c@d"}, {"user", "pa%2Fss"},
	} {
		f.Add(s[0], s[1], "https")
	}
	f.Add("git", "hunter22", "ssh")
	f.Fuzz(func(t *testing.T, user, pass, scheme string) {
		if len(pass) < 4 || strings.ContainsFunc(pass+user, func(r rune) bool { return r <= ' ' }) || !utf8.ValidString(pass) {
			return
		}
		if scheme != "https" && scheme != "http" && scheme != "ssh" {
			return
		}
		const host = "example.com/acme/gitops.git"
		line := "clone " + scheme + "://" + user + ":" + pass + "@" + host + ": failed"
		got := URLsIn(line)
		if got != "clone "+scheme+"://"+host+": failed" && got != "clone "+RedactedURL+": failed" {
			t.Errorf("URLsIn(%q) = %q: want the URL without user info, or %s", line, got, RedactedURL)
		}
	})
}
