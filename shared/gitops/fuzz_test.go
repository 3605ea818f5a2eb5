package gitops

import (
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// FuzzCheckURL: CheckURL never panics, never shows a URL's password in
// its error, and accepts only what newRemote takes.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/acme/gitops.git", "https://x-access-token:s3cret@github.com/acme/gitops",
		"https://u:p@ss/w#rd@host/repo", "ssh://git@example.com:22/acme/gitops.git", "git@github.com:acme/gitops.git",
		"file:///srv/gitops.git", "/srv/gitops.git", "relative/repo", "https:///x", "ftp://h/x", "https://h/x\n::error::",
		"https://%zz@host/x", "https://user:pa%2Fss@host/x", "http://[::1]:8080/r.git", "git://host/r", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := CheckURL(raw)
		if err == nil {
			if strings.ContainsFunc(raw, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Errorf("CheckURL(%q) accepted a control character", raw)
			}
			if ep, _ := transport.NewEndpoint(raw); ep.Protocol != "ssh" {
				if _, err := newRemote(raw, Auth{}); err != nil {
					t.Errorf("CheckURL(%q) = nil, but newRemote: %v", raw, err)
				}
			}
			return
		}
		if u, perr := url.Parse(raw); perr == nil && u.User != nil {
			pass, _ := u.User.Password()
			rest := strings.Replace(raw, u.User.String()+"@", "", 1)
			if len(pass) >= 4 && !strings.Contains(rest, pass) && strings.Contains(err.Error(), pass) {
				t.Errorf("CheckURL(%q) = %v: shows the password", raw, err)
			}
		}
	})
}

// FuzzCheckBranch: CheckBranch refuses every branch name git refuses.
func FuzzCheckBranch(f *testing.F) {
	git, err := exec.LookPath("git")
	if err != nil {
		f.Skip("git is not installed")
	}
	for _, s := range []string{"main", "gitship/web/dev", "a..b", "x.lock", "a/.b", "@", "a@{1}", "-x", "a b", "a/", "ä/ö", "HEAD", "a\\b", "a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b string) {
		if strings.ContainsRune(b, 0) {
			return // not passable as an argument
		}
		ours := CheckBranch(b) == nil
		gits := exec.Command(git, "check-ref-format", "refs/heads/"+b).Run() == nil
		if ours && !gits {
			t.Errorf("CheckBranch(%q) = nil, but git check-ref-format refuses it", b)
		}
	})
}
