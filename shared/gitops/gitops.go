// Package gitops writes to the GitOps repository with go-git: a shallow,
// single-branch clone of the base branch, the caller's files written into
// it, one commit (signed with an SSH or OpenPGP key if asked), and a push,
// either to the base branch or to a branch the step owns. A push the
// remote rejects because someone else got there first is retried on the
// new base: clone again, write again, commit, push, with backoff. Every
// attempt is a fresh clone rather than a fetch into the old one, which
// sidesteps go-git's shallow-fetch bugs and Azure Repos' multi_ack.
package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
	// URL is https://, ssh://, git@host:path, file:// or a path.
	// Credentials written into an https URL are taken out of it and used
	// as Auth.Username and Auth.Token, unless Auth.Token is set.
	URL  string
	Base string // the branch to start from, e.g. main
	// Branch receives the commit: Base itself for a direct commit, or a
	// branch the step owns (gitship/<app>/<env>), which is force-pushed:
	// it is always Base plus one commit. Empty means Base.
	Branch string
	Auth   Auth
	// Author is the commit's author and committer; both parts required.
	Author  Author
	Signing *Signing
	Message string // required
	// Write changes the checkout at dir (a fresh clone of Base, its
	// working tree) and is called again for every retry, on the new Base.
	Write func(dir string) error
	// Paths, when set, are the only paths (slash-separated, relative to
	// the repository) Write changes: the clone is then not checked out,
	// Write sees the base's files under Paths only, and the commit changes
	// nothing else. Far faster on a large repository; see tree.go.
	Paths []string
	// Attempts bounds the tries when a push is rejected (Base moved, or
	// another run replaced Branch since it was looked at); 0 is 10.
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

// ErrRefused is returned (wrapped) when the server refuses a push for a
// reason of its own: a pre-receive hook, branch protection, a policy. It
// is not retried; the error carries the server's text.
var ErrRefused = errors.New("the server refused the push")

// ErrAuth is returned (wrapped) when the remote refuses the credentials;
// the message names the remote, never the token.
var ErrAuth = errors.New("authentication failed")

// Apply clones Base, lets u.Write change it, commits, and pushes to
// Branch, retrying on rejection as described on the package. Nothing is
// left half-done on the remote: a failure pushes nothing.
//
// Each attempt is a fresh clone in its own temporary directory, removed
// afterwards. Progress lines go to log (nil discards them); no line and no
// error carries the token or URL credentials.
func Apply(ctx context.Context, u Update, log io.Writer) (Result, error) {
	if log == nil {
		log = io.Discard
	}
	if u.Branch == "" {
		u.Branch = u.Base
	}
	if err := u.validate(); err != nil {
		return Result{}, err
	}
	rem, err := newRemote(u.URL, u.Auth)
	if err != nil {
		return Result{}, err
	}
	sign, err := newSigner(u.Signing)
	if err != nil {
		return Result{}, err
	}
	attempts := u.Attempts
	if attempts <= 0 {
		attempts = defaultAttempts
	}
	a := &applier{u: u, remote: rem, sign: sign, log: log}
	for n := 1; ; n++ {
		res, err := a.attempt(ctx)
		if err == nil {
			res.Attempts = n
			return res, nil
		}
		var rej *rejectedError
		if !errors.As(err, &rej) {
			return Result{Attempts: n}, rem.mask(err)
		}
		if n >= attempts {
			return Result{Attempts: n}, rem.mask(fmt.Errorf("push to %s %s: %w after %d attempts: %w",
				rem, rej.ref, ErrRejected, n, rej.err))
		}
		wait := Backoff(n)
		fmt.Fprintf(log, "gitops: push to %s rejected: %s; retry %d/%d in %s\n",
			rej.ref, rem.maskString(rej.err.Error()), n+1, attempts, wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Result{Attempts: n}, ctx.Err()
		case <-t.C:
		}
	}
}

const (
	defaultAttempts = 10
	backoffMin      = 100 * time.Millisecond
	backoffMax      = 5 * time.Second
)

// Backoff is the wait before retry n (from 1): exponential with jitter,
// so that runs racing for one branch spread out. The ceiling starts at 100ms and doubles up to 5s; the wait is drawn
// uniformly below it ("full jitter"), plus 1ms.
func Backoff(n int) time.Duration {
	ceiling := backoffMax
	if n < 1 {
		n = 1
	}
	if n <= 6 { // 100ms<<6 is past the cap already
		ceiling = min(backoffMin<<(n-1), backoffMax)
	}
	return rand.N(ceiling) + time.Millisecond
}
