package gitops

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		n       int
		ceiling time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{6, 3200 * time.Millisecond},
		{7, 5 * time.Second},
		{100, 5 * time.Second},
	} {
		var most time.Duration
		for range 200 {
			d := Backoff(tc.n)
			if d <= 0 || d > tc.ceiling+time.Millisecond {
				t.Fatalf("Backoff(%d) = %s, want in (0, %s]", tc.n, d, tc.ceiling)
			}
			most = max(most, d)
		}
		// Jitter spreads the waits over the range, not at its low end.
		if most < tc.ceiling/2 {
			t.Errorf("Backoff(%d) is at most %s in 200 draws, want some above %s", tc.n, most, tc.ceiling/2)
		}
	}
}

func TestNewRemote(t *testing.T) {
	for _, tc := range []struct {
		name, url      string
		auth           Auth
		wantURL        string
		wantUser, pass string // of the basic auth, "" for none
	}{
		{"token", "https://github.com/o/r.git", Auth{Token: "ghs_abcd"}, "https://github.com/o/r.git", "x-access-token", "ghs_abcd"},
		{"username", "https://dev.azure.com/o/p/_git/r", Auth{Username: "pat", Token: "azpat123"}, "https://dev.azure.com/o/p/_git/r", "pat", "azpat123"},
		{"in URL", "https://me:ghs_inurl@github.com/o/r.git", Auth{}, "https://github.com/o/r.git", "me", "ghs_inurl"},
		{"Auth wins over URL", "https://me:ghs_inurl@github.com/o/r.git", Auth{Token: "ghs_auth"}, "https://github.com/o/r.git", "x-access-token", "ghs_auth"},
		{"anonymous", "https://github.com/o/r.git", Auth{}, "https://github.com/o/r.git", "", ""},
		{"path", "/tmp/repo.git", Auth{Token: "ignored"}, "/tmp/repo.git", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newRemote(tc.url, tc.auth)
			if err != nil {
				t.Fatal(err)
			}
			if r.url != tc.wantURL {
				t.Errorf("url = %q, want %q", r.url, tc.wantURL)
			}
			var user, pass string
			if b, ok := r.auth.(*githttp.BasicAuth); ok {
				user, pass = b.Username, b.Password
			} else if r.auth != nil {
				t.Fatalf("auth = %T, want basic auth", r.auth)
			}
			if user != tc.wantUser || pass != tc.pass {
				t.Errorf("basic auth = %q:%q, want %q:%q", user, pass, tc.wantUser, tc.pass)
			}
			if tc.pass != "" {
				err := r.mask(fmt.Errorf("push %s with %s: %w", tc.url, tc.pass, transport.ErrAuthorizationFailed))
				if got := err.Error(); got != "push "+tc.wantURL+" with ***: authorization failed" {
					t.Errorf("mask() = %q", got)
				}
				if !errors.Is(err, transport.ErrAuthorizationFailed) {
					t.Errorf("mask() = %v, does not unwrap", err)
				}
			}
		})
	}
}

// A URL that does not parse is never shown with its credentials, nor with
// the part of its password the parser quotes in its reason (a port cut
// short by a '/' or '#', a bad escape): with user info, the reason is
// hidden.
func TestNewRemoteBadURL(t *testing.T) {
	for _, tt := range []struct {
		raw    string
		secret []string // no part of the password, as the parser quoted it
	}{
		{"https://u:s3cr%zz@github.com/o/r", []string{"s3cr", "%zz"}},
		{"https://u:pa ss@host/x", []string{"pa ss"}},
		{"https://user:pa55/word@host/r", []string{"pa55", "word"}},
		{"https://x-access-token:ghs_ab#cd@github.com/acme/gitops", []string{"ghs_ab", "#cd"}},
		{"https://user:s3cret?x@host/r", []string{"s3cret"}},
		{"https://x-access-token:tok/en:123@127.0.0.1:1/acme/gitops.git", []string{"tok", "123"}},
	} {
		for name, err := range map[string]error{"newRemote": func() error { _, err := newRemote(tt.raw, Auth{}); return err }(), "CheckURL": CheckURL(tt.raw)} {
			if err == nil || !errors.Is(err, ErrURL) {
				t.Errorf("%s(%q) = %v, want ErrURL", name, tt.raw, err)
				continue
			}
			if !strings.Contains(err.Error(), "<redacted URL>") || !strings.HasSuffix(err.Error(), ": "+userInfoHidden) {
				t.Errorf("%s(%q) = %q, want <redacted URL> and %q", name, tt.raw, err, userInfoHidden)
			}
			for _, secret := range tt.secret {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%s(%q) = %q: shows %q of the password", name, tt.raw, err, secret)
				}
			}
		}
	}
	// Without user info, the parser's reason helps and holds no secret.
	if err := CheckURL("https://host:port/r"); err == nil || !strings.Contains(err.Error(), `invalid port ":port" after host`) {
		t.Errorf("CheckURL with a bad port = %v, want the parser's reason", err)
	}
}

func TestIsRejection(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"non-fast-forward update: refs/heads/main", true},
		{"remote ref refs/heads/main required to be abc but is def", true},
		{"command error on refs/heads/main: failed to update ref", true},
		{"command error on refs/heads/main: failed to update ref (cannot lock ref 'refs/heads/main': is at a but expected b)", true},
		{"command error on refs/heads/main: protected branch hook declined", false},
		{"command error on refs/heads/main: pre-receive hook declined", false},
		{"unexpected EOF", false},
		{"authentication required", false},
	} {
		if got := isRejection(errors.New(tc.msg)); got != tc.want {
			t.Errorf("isRejection(%q) = %t, want %t", tc.msg, got, tc.want)
		}
	}
}

// TestIsMovedWhileRead: the errors of a clone that read a ref another
// run was moving, which a fresh attempt fixes, and others, which it does
// not.
func TestIsMovedWhileRead(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errors.New("unexpected client error: unexpected requesting \"http://h/r.git/git-upload-pack\" status code: 500: upload-pack: not our ref 3b61ef63"), true},
		{plumbing.ErrObjectNotFound, true},
		{fmt.Errorf("clone file:///srv/gitops.git: %w", plumbing.ErrObjectNotFound), true},
		{errors.New("decode packfile: object not found"), true},
		{errors.New("authentication required"), false},
		{errors.New("repository not found"), false},
		{errors.New("unexpected EOF"), false},
	} {
		if got := isMovedWhileRead(tc.err); got != tc.want {
			t.Errorf("isMovedWhileRead(%q) = %t, want %t", tc.err, got, tc.want)
		}
	}
}

func TestNewRemoteSSH(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := pem.EncodeToMemory(block)
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	line := "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	if err := os.WriteFile(knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url string
		auth      Auth
		wantUser  string
		wantErr   string
	}{
		{"scp-like", "git@github.com:o/r.git", Auth{SSHKey: key, KnownHostsFile: knownHosts}, "git", ""},
		{"ssh URL with user", "ssh://deploy@github.com:22/o/r.git", Auth{SSHKey: key, KnownHostsFile: knownHosts}, "deploy", ""},
		{"no known hosts", "git@github.com:o/r.git", Auth{SSHKey: key}, "", "KnownHostsFile"},
		{"no key", "git@github.com:o/r.git", Auth{Token: "x"}, "", "Auth.SSHKey"},
		{"bad key", "git@github.com:o/r.git", Auth{SSHKey: []byte("nope"), KnownHostsFile: knownHosts}, "", "read SSH key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newRemote(tc.url, tc.auth)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("newRemote() = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			keys, ok := r.auth.(*gitssh.PublicKeys)
			if !ok || keys.User != tc.wantUser || keys.HostKeyCallback == nil {
				t.Errorf("auth = %#v, want public keys for %q with a host key check", r.auth, tc.wantUser)
			}
		})
	}
}
