// Package gitops writes to the GitOps repository with go-git: a shallow,
// single-branch clone of the base branch, the caller's files written into
// it, one commit (signed with an SSH or OpenPGP key if asked), and a push,
// either to the base branch or to a branch the step owns. A push the
// remote rejects because someone else got there first is retried on the
// new base: fetch, write again, commit, push, with backoff.
package gitops

import (
	"context"
	"errors"
	"io"
	"time"
)

// Auth is how to reach the remote.
type Auth struct {
	// Token is sent as the HTTPS basic-auth password (a GitHub token, an
	// Azure DevOps PAT or System.AccessToken); Username defaults to
	// "x-access-token", which GitHub wants and Azure ignores.
	Username, Token string
	// SSHKey is a PEM private key for ssh:// and git@ URLs, with its
	// passphrase if any. KnownHostsFile is required with it: host keys are
	// always checked.
	SSHKey           []byte
	SSHKeyPassphrase string
	KnownHostsFile   string
}

// Author is who the commit is by.
type Author struct{ Name, Email string }

// Signing signs the commit with one key: an armored OpenPGP private key,
// or an SSH private key (sshsig, as git's gpg.format=ssh and Flux's
// verification expect). Nil signs nothing.
type Signing struct {
	OpenPGPKey []byte
	SSHKey     []byte
	Passphrase string
}

// Update is one change to the GitOps repository.
type Update struct {
	URL  string // https://, ssh://, git@host:path, file:// or a path
	Base string // the branch to start from, e.g. main
	// Branch receives the commit: Base itself for a direct commit, or a
	// branch the step owns (gitship/<app>/<env>), which is force-pushed:
	// it is always Base plus one commit.
	Branch  string
	Auth    Auth
	Author  Author
	Signing *Signing
	Message string
	// Write changes the checkout at dir (a fresh clone of Base, its
	// working tree) and is called again for every retry, on the new Base.
	Write func(dir string) error
	// Attempts bounds the tries when a push to Base is rejected; 0 is 10.
	Attempts int
}

// Result is what Apply did.
type Result struct {
	// Commit is the commit at Branch: the new one, or the one that was
	// already there with the same content.
	Commit string
	// Changed is false when Base already had this content (no commit at
	// all) or Branch already had exactly this tree (nothing pushed).
	Changed bool
	// BaseCommit is the commit of Base the change was made on.
	BaseCommit string
	// Attempts is how many tries it took.
	Attempts int
}

// ErrRejected is returned (wrapped) when the remote refuses every push
// attempt, or a push to a branch that is not fast-forward and not ours.
var ErrRejected = errors.New("push rejected")

// ErrAuth is returned (wrapped) when the remote refuses the credentials;
// the message names the remote, never the token.
var ErrAuth = errors.New("authentication failed")

// Apply clones Base, lets u.Write change it, commits, and pushes to
// Branch, retrying on rejection as described on the package. Nothing is
// left half-done on the remote: a failure pushes nothing.
func Apply(ctx context.Context, u Update, log io.Writer) (Result, error) { panic("TODO(gitops)") }

// Backoff is the wait before retry n (from 1): exponential with jitter,
// so that runs racing for one branch spread out.
func Backoff(n int) time.Duration { panic("TODO(gitops)") }
