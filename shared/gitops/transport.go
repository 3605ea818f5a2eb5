package gitops

import (
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/gitship/gitship/shared/redact"
)

func init() {
	// Azure Repos refuses clients that do not speak multi_ack, which go-git
	// v5 lists as unsupported and so never asks for. Dropping it from the
	// list lets a fresh clone work (go-git _examples/azure_devops, the
	// same thing Flux does); what still breaks on Azure is negotiation in
	// follow-up fetches (go-git PR #613, fluxcd/pkg#576), so Apply never
	// fetches into an existing clone: every attempt, and the look at a PR
	// branch, is a fresh clone with nothing to negotiate. This is a
	// package global of go-git, set once here before any transport runs.
	transport.UnsupportedCapabilities = []capability.Capability{
		capability.ThinPack,
	}

	// go-git reaches a repository on disk by running git-upload-pack and
	// git-receive-pack, which the step images (no git, no shell) lack.
	// Without git, serve file URLs in-process instead, with the ref
	// updates of localpush.go; that server cannot make shallow clones, so
	// those are full (see depth).
	if _, err := exec.LookPath("git"); err != nil {
		client.InstallProtocol("file", newLocalServer())
		inProcess["file"] = true
	}
}

// inProcess holds the protocols served by go-git itself: file without git.
var inProcess = map[string]bool{}

// depth is how much history a clone of url fetches: one commit, except
// from the in-process file server, which knows no shallow clones.
func depth(url string) int {
	if ep, err := transport.NewEndpoint(url); err == nil && inProcess[ep.Protocol] {
		return 0
	}
	return 1
}

// defaultUsername is what GitHub wants as the basic-auth user with a token;
// Azure DevOps ignores the user.
const defaultUsername = "x-access-token"

// remote is where Apply talks to: the URL with any credentials moved out
// of it, the go-git auth method, and the secrets to mask in errors.
type remote struct {
	url     string
	auth    transport.AuthMethod
	secrets []string
}

// newRemote resolves the auth method for rawURL. Credentials written into
// an https URL are taken out of it (they would otherwise end up in
// .git/config and error text) and used as Auth.Token unless one is set.
func newRemote(rawURL string, a Auth) (*remote, error) {
	r := &remote{url: rawURL}
	for _, s := range []string{a.Token, a.SSHKeyPassphrase} {
		r.addSecret(s)
	}
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		return nil, urlError(rawURL, err)
	}
	switch ep.Protocol {
	case "http", "https":
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, urlError(rawURL, err)
		}
		if u.User != nil {
			if pass, ok := u.User.Password(); ok {
				r.addSecret(pass)
				if a.Token == "" {
					a.Username, a.Token = u.User.Username(), pass
				}
			} else {
				// https://TOKEN@host: the user part is the secret.
				r.addSecret(u.User.Username())
			}
			u.User = nil
			r.url = u.String()
		}
		if a.Token != "" {
			user := a.Username
			if user == "" {
				user = defaultUsername
			}
			r.auth = &githttp.BasicAuth{Username: user, Password: a.Token}
		}
	case "ssh":
		if len(a.SSHKey) == 0 {
			return nil, fmt.Errorf("remote %s: an SSH URL needs Auth.SSHKey", redact.URL(rawURL))
		}
		if a.KnownHostsFile == "" {
			return nil, fmt.Errorf("remote %s: an SSH key needs Auth.KnownHostsFile: host keys are always checked", redact.URL(rawURL))
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		keys, err := gitssh.NewPublicKeys(user, a.SSHKey, a.SSHKeyPassphrase)
		if err != nil {
			return nil, fmt.Errorf("read SSH key: %w", err)
		}
		cb, err := gitssh.NewKnownHostsCallback(a.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("read known hosts %q: %w", a.KnownHostsFile, err)
		}
		keys.HostKeyCallback = cb
		r.auth = keys
	}
	return r, nil
}

func (r *remote) addSecret(s string) {
	// Very short strings would mask unrelated text; no real token is that
	// short.
	if len(s) >= 4 {
		r.secrets = append(r.secrets, s)
	}
}

// String is the remote as it may be printed.
func (r *remote) String() string { return redact.URL(r.url) }

// mask returns err with any secret and any URL credentials replaced, still
// unwrapping to err for errors.Is.
func (r *remote) mask(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	// go-git appends the body of an HTTP error, often with its newline.
	masked := strings.TrimRight(r.maskString(msg), ": \n")
	if masked == msg {
		return err
	}
	return &maskedError{msg: masked, err: err}
}

func (r *remote) maskString(s string) string {
	s = redact.URLsIn(s)
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// isAuthError tells whether err is the remote refusing the credentials.
func isAuthError(err error) bool {
	if errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"authentication required", "authorization failed", "unable to authenticate"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isRejection tells whether a push error is a lost race: the remote (or
// go-git, checking the advertised refs) refusing the update because the
// ref moved since it was read, which a retry on the new base fixes. A
// refusal for any other reason (a hook, branch protection) is not one:
// it would refuse the retry the same way.
func isRejection(err error) bool {
	msg := err.Error()
	for _, s := range []string{
		"non-fast-forward",   // go-git's own check against the advertised ref
		"required to be",     // RequireRemoteRefs: the ref moved since the clone
		"some refs were not", // git.ErrForceNeeded
		// The server's report-status, "ng <ref> <reason>": what git
		// receive-pack (http-backend, GitHub, GitLab) and the in-process
		// file server of localpush.go say when the ref moved under them.
		"failed to update ref",
		"failed to lock",
		"cannot lock ref",
		"reference already exists",
		"incorrect old value",
		"stale info",
		"fetch first",
		// Azure Repos, TF401028.
		"already been updated by another client",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isRefusal tells whether a push error is the server refusing the update
// for a reason of its own (report-status "ng <ref> <reason>", or an
// unpack error): a pre-receive hook, branch protection, a policy.
func isRefusal(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "command error on") || strings.Contains(msg, "unpack error")
}
