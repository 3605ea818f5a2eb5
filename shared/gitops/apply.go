package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

func (u *Update) validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"URL", u.URL}, {"Base", u.Base}, {"Message", strings.TrimSpace(u.Message)},
		{"Author.Name", u.Author.Name}, {"Author.Email", u.Author.Email},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if u.Write == nil {
		missing = append(missing, "Write")
	}
	if len(missing) > 0 {
		return fmt.Errorf("gitops update: missing %s", strings.Join(missing, ", "))
	}
	for _, b := range []string{u.Base, u.Branch} {
		if err := CheckBranch(b); err != nil {
			return fmt.Errorf("gitops update: %w", err)
		}
	}
	for _, f := range []struct{ name, value string }{{"Author.Name", u.Author.Name}, {"Author.Email", u.Author.Email}} {
		if err := CheckIdent(f.value); err != nil {
			return fmt.Errorf("gitops update: %s: %w", f.name, err)
		}
	}
	return nil
}

// rejectedError is a push the remote refused; Apply retries those.
type rejectedError struct {
	ref plumbing.ReferenceName
	err error
}

func (e *rejectedError) Error() string { return fmt.Sprintf("push to %s rejected: %v", e.ref, e.err) }
func (e *rejectedError) Unwrap() error { return e.err }

// applier holds what stays the same across the attempts of one Apply.
type applier struct {
	u      Update
	remote *remote
	sign   signer
	log    io.Writer
}

func (a *applier) logf(format string, args ...any) {
	fmt.Fprintf(a.log, "gitops: "+format+"\n", args...)
}

// attempt is one try: clone Base, write, commit, push. A push the remote
// refuses comes back as a *rejectedError.
func (a *applier) attempt(ctx context.Context) (Result, error) {
	dir, err := os.MkdirTemp("", "gitship-gitops-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)

	base := plumbing.NewBranchReferenceName(a.u.Base)
	a.logf("clone %s branch %s (depth 1)", a.remote, a.u.Base)
	repo, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{
		URL:           a.remote.url,
		Auth:          a.remote.auth,
		ReferenceName: base,
		SingleBranch:  true,
		Depth:         depth(a.remote.url),
		Tags:          git.NoTags,
		// With Paths, only those are written out (tree.go).
		NoCheckout: len(a.u.Paths) > 0,
	})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return a.first(ctx, dir)
	}
	if err != nil {
		return Result{}, a.readError("clone", base, err)
	}
	head, err := repo.Head()
	if err != nil {
		return Result{}, fmt.Errorf("clone %s: read HEAD: %w", a.remote, err)
	}
	baseCommit := head.Hash()
	a.logf("%s is at %s", a.u.Base, baseCommit)

	if len(a.u.Paths) > 0 {
		bc, err := repo.CommitObject(baseCommit)
		if err != nil {
			return Result{}, err
		}
		bt, err := bc.Tree()
		if err != nil {
			return Result{}, err
		}
		for _, p := range a.u.Paths {
			if err := materialise(repo, bt, p, dir); err != nil {
				return Result{}, fmt.Errorf("check out %s: %w", p, err)
			}
		}
	}
	if err := a.u.Write(dir); err != nil {
		return Result{}, fmt.Errorf("write the changes: %w", err)
	}
	var commit *object.Commit
	if len(a.u.Paths) > 0 {
		commit, err = a.treeCommit(repo, baseCommit, dir)
	} else {
		commit, err = a.commit(repo)
	}
	if errors.Is(err, git.ErrEmptyCommit) {
		a.logf("no changes against %s %s: nothing to commit", a.u.Base, short(baseCommit))
		return Result{Commit: baseCommit.String(), BaseCommit: baseCommit.String()}, nil
	}
	if err != nil {
		return Result{}, err
	}
	a.logf("commit %s on %s %s: %s", commit.Hash, a.u.Base, short(baseCommit), firstLine(a.u.Message))
	res := Result{Commit: commit.Hash.String(), Changed: true, BaseCommit: baseCommit.String()}

	if a.u.Branch == a.u.Base {
		// Never forced: the push only lands if Base is still where it was
		// cloned from, checked by go-git against the advertised ref and by
		// the server under its ref lock.
		err := a.push(ctx, repo, config.RefSpec(base+":"+base),
			config.RefSpec(baseCommit.String()+":"+base.String()))
		return res, err
	}

	branch := plumbing.NewBranchReferenceName(a.u.Branch)
	current, err := a.remoteBranch(ctx, repo, branch)
	if err != nil {
		return Result{}, err
	}
	if current == nil {
		// A new branch: not forced, so a run that created it in the
		// meantime makes this one retry instead of being overwritten.
		return res, a.push(ctx, repo, config.RefSpec(base+":"+branch))
	}
	if current.TreeHash == commit.TreeHash {
		a.logf("%s at %s already has this content: nothing pushed", a.u.Branch, short(current.Hash))
		return Result{Commit: current.Hash.String(), BaseCommit: baseCommit.String()}, nil
	}
	// The branch is ours and always Base plus one commit: replace it, but
	// only from the commit looked at (a lease), so concurrent runs retry.
	return res, a.push(ctx, repo, config.RefSpec("+"+base+":"+branch),
		config.RefSpec(current.Hash.String()+":"+branch.String()))
}

// first makes the first commit of an empty repository: a GitOps
// repository just created, which a direct commit starts. A pull request
// needs a base branch to go to, so that asks for one.
func (a *applier) first(ctx context.Context, dir string) (Result, error) {
	if a.u.Branch != a.u.Base {
		return Result{}, fmt.Errorf("%s is empty: a pull request needs its base branch %s; commit to it directly once (--direct) or push a first commit", a.remote, a.u.Base)
	}
	a.logf("%s is empty: the first commit starts %s", a.remote, a.u.Base)
	base := plumbing.NewBranchReferenceName(a.u.Base)
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: base}})
	if err != nil {
		return Result{}, err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: git.DefaultRemoteName, URLs: []string{a.remote.url}}); err != nil {
		return Result{}, err
	}
	if err := a.u.Write(dir); err != nil {
		return Result{}, fmt.Errorf("write the changes: %w", err)
	}
	commit, err := a.commit(repo)
	if errors.Is(err, git.ErrEmptyCommit) {
		return Result{}, fmt.Errorf("%s is empty and the change writes nothing", a.remote)
	}
	if err != nil {
		return Result{}, err
	}
	a.logf("commit %s, the first on %s: %s", commit.Hash, a.u.Base, firstLine(a.u.Message))
	return Result{Commit: commit.Hash.String(), Changed: true}, a.push(ctx, repo, config.RefSpec(base+":"+base))
}

// commit stages everything in the worktree, deletions included, and
// commits it on Base; git.ErrEmptyCommit means the tree did not change.
func (a *applier) commit(repo *git.Repository) (*object.Commit, error) {
	wt, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	// Additions, modifications and deletions, .gitignore respected.
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return nil, fmt.Errorf("stage the changes: %w", err)
	}
	now := time.Now()
	sig := &object.Signature{Name: a.u.Author.Name, Email: a.u.Author.Email, When: now}
	// No CommitOptions.All: it would run a second full status of the
	// worktree, and Add with All already stages deletions
	// (TestApplyDeletes).
	opts := &git.CommitOptions{Author: sig, Committer: sig}
	a.sign.commitOptions(opts)
	h, err := wt.Commit(a.u.Message, opts)
	if err != nil {
		if errors.Is(err, git.ErrEmptyCommit) {
			return nil, err
		}
		return nil, fmt.Errorf("commit: %w", err)
	}
	return repo.CommitObject(h)
}

// remoteBranch returns the head commit of branch on the remote, nil if there
// is no such branch. It clones the branch into memory rather than fetching
// it into the clone: fetches into shallow clones have had "object not found"
// bugs in go-git, and on Azure Repos anything beyond a fresh clone.
func (a *applier) remoteBranch(ctx context.Context, repo *git.Repository, branch plumbing.ReferenceName) (*object.Commit, error) {
	origin, err := repo.Remote(git.DefaultRemoteName)
	if err != nil {
		return nil, err
	}
	refs, err := origin.ListContext(ctx, &git.ListOptions{Auth: a.remote.auth})
	if err != nil {
		return nil, a.transportError("list branches of", err)
	}
	found := false
	for _, r := range refs {
		if r.Name() == branch {
			found = true
			break
		}
	}
	if !found {
		a.logf("%s does not exist yet", a.u.Branch)
		return nil, nil
	}
	a.logf("clone %s branch %s (depth 1, to compare)", a.remote, a.u.Branch)
	r, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{
		URL:           a.remote.url,
		Auth:          a.remote.auth,
		ReferenceName: branch,
		SingleBranch:  true,
		Depth:         depth(a.remote.url),
		Tags:          git.NoTags,
		NoCheckout:    true,
	})
	if err != nil {
		return nil, a.readError("clone", branch, err)
	}
	head, err := r.Head()
	if err != nil {
		return nil, fmt.Errorf("clone %s branch %s: %w", a.remote, a.u.Branch, err)
	}
	return r.CommitObject(head.Hash())
}

// push pushes refspec; require, if set, is where the remote ref must be for
// the push to go ahead ("<hash>:<ref>"). A push that lands is confirmed
// by reading the ref back; one that lost a race, or that cannot be
// confirmed, comes back as a *rejectedError; one the server refuses for a
// reason of its own (a hook, branch protection) as ErrRefused with the
// server's text.
func (a *applier) push(ctx context.Context, repo *git.Repository, refspec config.RefSpec, require ...config.RefSpec) error {
	dst := plumbing.ReferenceName(refspec.Dst(""))
	local, err := repo.Reference(plumbing.ReferenceName(refspec.Src()), false)
	if err != nil {
		return err
	}
	verb := "push"
	if refspec.IsForceUpdate() {
		verb = "force-push"
	}
	a.logf("%s %s to %s %s", verb, short(local.Hash()), a.remote, dst)
	// What the server says on the side (remote: lines): a hook's reason.
	server := &capped{max: 8 << 10}
	err = repo.PushContext(ctx, &git.PushOptions{
		RemoteName:        git.DefaultRemoteName,
		RefSpecs:          []config.RefSpec{refspec},
		Auth:              a.remote.auth,
		RequireRemoteRefs: require,
		Progress:          server,
	})
	switch {
	case err == nil || errors.Is(err, git.NoErrAlreadyUpToDate):
		// Where dst was before the push, as far as it was checked: the
		// lease's value, or none (a new branch).
		var old plumbing.Hash
		if len(require) > 0 {
			old = plumbing.NewHash(require[0].Src())
		}
		if err := a.confirm(ctx, repo, dst, local.Hash(), old); err != nil {
			return err
		}
		a.logf("pushed %s to %s", short(local.Hash()), dst)
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case isAuthError(err):
		return fmt.Errorf("push to %s: %w: %w", a.remote, ErrAuth, err)
	case isRejection(err):
		return &rejectedError{ref: dst, err: err}
	case isRefusal(err):
		return fmt.Errorf("push to %s %s: %w: %w%s", a.remote, dst, ErrRefused, err, remoteLines(server.String()))
	}
	return fmt.Errorf("push to %s %s: %w", a.remote, dst, err)
}

// confirm reads ref back from the remote after a push of commit that the
// server reported done; old is where ref was before it (zero: it did not
// exist). A push that said yes and kept nothing comes back as a
// *rejectedError, so the attempt is made again.
//
// Base is never forced: commit must be there, or in the history of what
// is there now (a run pushed on top since). A pull request branch is
// replaced by every run, each under a lease, so a newer run may have
// replaced commit since, and its history need not hold commit: the
// server's status, a compare-and-swap of the ref, is trusted, and only a
// ref still at old shows a push that never landed. Taking a replaced
// branch for a lost push would make this run push its older content over
// the newer run's.
func (a *applier) confirm(ctx context.Context, repo *git.Repository, ref plumbing.ReferenceName, commit, old plumbing.Hash) error {
	origin, err := repo.Remote(git.DefaultRemoteName)
	if err != nil {
		return err
	}
	refs, err := origin.ListContext(ctx, &git.ListOptions{Auth: a.remote.auth})
	if err != nil {
		return a.transportError("pushed, but could not read the branches back from", err)
	}
	var head plumbing.Hash
	for _, r := range refs {
		if r.Name() == ref {
			head = r.Hash()
		}
	}
	if head == commit {
		return nil
	}
	if ref != plumbing.NewBranchReferenceName(a.u.Base) {
		switch {
		case head == old && head.IsZero():
			return &rejectedError{ref: ref, err: fmt.Errorf("the push of %s was reported done, but %s is not on the remote", short(commit), ref)}
		case head == old:
			return &rejectedError{ref: ref, err: fmt.Errorf("the push of %s was reported done, but %s is still at %s", short(commit), ref, short(head))}
		case head.IsZero():
			a.logf("%s was deleted since the push of %s", ref, short(commit))
		default:
			a.logf("%s was replaced since by %s (another run's push)", ref, short(head))
		}
		return nil
	}
	if head.IsZero() {
		return &rejectedError{ref: ref, err: fmt.Errorf("the push of %s was reported done, but %s is not on the remote", short(commit), ref)}
	}
	a.logf("%s moved on to %s since the push: looking for %s in its history", ref, short(head), short(commit))
	ok, err := a.contains(ctx, ref, commit)
	if err != nil {
		return err
	}
	if !ok {
		return &rejectedError{ref: ref, err: fmt.Errorf("the push of %s was reported done, but %s is at %s, which does not contain it", short(commit), ref, short(head))}
	}
	return nil
}

// contains tells whether commit is in the history of ref on the remote:
// a clone of the last 50 commits, then, if that is not enough, of all.
func (a *applier) contains(ctx context.Context, ref plumbing.ReferenceName, commit plumbing.Hash) (bool, error) {
	depths := []int{50, 0}
	if depth(a.remote.url) == 0 {
		depths = []int{0}
	}
	for _, d := range depths {
		r, err := git.CloneContext(ctx, memory.NewStorage(), nil, &git.CloneOptions{
			URL: a.remote.url, Auth: a.remote.auth, ReferenceName: ref, SingleBranch: true,
			Depth: d, Tags: git.NoTags, NoCheckout: true,
		})
		if err != nil {
			return false, a.transportError("pushed, but could not read "+ref.Short()+" back from", err)
		}
		head, err := r.Head()
		if err != nil {
			return false, err
		}
		found, truncated := inHistory(r, head.Hash(), commit)
		if found || !truncated {
			return found, nil
		}
	}
	return false, nil
}

// inHistory walks the commits of repo from head looking for commit;
// truncated says the walk met a commit whose parents were not cloned.
func inHistory(repo *git.Repository, head, commit plumbing.Hash) (found, truncated bool) {
	seen := map[plumbing.Hash]bool{head: true}
	queue := []plumbing.Hash{head}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if h == commit {
			return true, false
		}
		c, err := repo.CommitObject(h)
		if err != nil {
			truncated = true
			continue
		}
		for _, p := range c.ParentHashes {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return false, truncated
}

// capped keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// remoteLines is what the server said on the side, as git shows it:
// each line after "remote: ", on lines of their own.
func remoteLines(s string) string {
	var b strings.Builder
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			b.WriteString("\nremote: " + l)
		}
	}
	return b.String()
}

// readError is transportError for a clone of ref, except that one which
// found ref moved on since the server listed it (isMovedWhileRead) is a
// *rejectedError: another run replaced the pull request branch (or
// someone forced Base), and the attempt is made again on what is there
// now.
func (a *applier) readError(op string, ref plumbing.ReferenceName, err error) error {
	if isMovedWhileRead(err) {
		return &rejectedError{ref: ref, err: fmt.Errorf("%s moved on while it was read: %w", ref.Short(), err)}
	}
	return a.transportError(op, err)
}

// isMovedWhileRead tells whether a clone failed because a ref moved
// between the server's listing of the refs and the reading of their
// objects: over smart HTTP these are two requests, and git's upload-pack
// refuses to send a commit that no ref reaches any more ("upload-pack:
// not our ref <hash>"), as a branch replaced by a force-push leaves it.
// Without git, go-git's in-process upload-pack can list a ref another
// run's push has just moved and then miss the object in the pack it
// wrote ("object not found"): the same race, read again (Flux's image
// automation meets it too, and fetches again).
func isMovedWhileRead(err error) bool {
	return strings.Contains(err.Error(), "not our ref") ||
		errors.Is(err, plumbing.ErrObjectNotFound) || strings.Contains(err.Error(), plumbing.ErrObjectNotFound.Error())
}

// transportError names the remote in err, and ErrAuth when it is one.
func (a *applier) transportError(op string, err error) error {
	if isAuthError(err) {
		return fmt.Errorf("%s %s: %w: %w", op, a.remote, ErrAuth, err)
	}
	return fmt.Errorf("%s %s: %w", op, a.remote, err)
}

func short(h plumbing.Hash) string { return h.String()[:12] }

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
