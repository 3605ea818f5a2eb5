package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
)

// relation is how a revision an object reports stands to the one wanted.
type relation int

const (
	noCommit   relation = iota // the revision names no commit (a chart version)
	same                       // the commit wanted
	descendant                 // a later commit with the wanted one in its history
	older                      // an ancestor of the wanted commit: not deployed yet
	unrelated                  // another commit, or one the repository does not know
)

func (r relation) matches() bool { return r == same || r == descendant }

// commitIn finds the commit a controller's revision names:
// Flux "main@sha1:<sha>" (or the older "main/<sha>"), a chart version
// "1.2.3+<sha prefix>" (a HelmChart with reconcileStrategy Revision), or
// Argo CD's bare "<sha>". A digest (OCI sources' "@sha256:") is no commit.
var commitIn = regexp.MustCompile(`(?i)(?:^|sha1:|[/+@])([0-9a-f]{7,40})$`)

func commitOf(rev string) string {
	m := commitIn.FindStringSubmatch(strings.TrimSpace(rev))
	if m == nil {
		return ""
	}
	c := strings.ToLower(m[1])
	// A short one must look like a hash, not a date or a build number.
	if len(c) < 40 && !strings.ContainsAny(c, "abcdef") {
		return ""
	}
	return c
}

// matcher decides whether a revision is the wanted commit or, with a
// repository, a descendant of it.
type matcher struct {
	want string // lower-case hex, 7 to 40 characters
	repo *history
}

func (m *matcher) relate(ctx context.Context, rev string) relation {
	c := commitOf(rev)
	switch {
	case c == "":
		return noCommit
	case strings.HasPrefix(c, m.want) || strings.HasPrefix(m.want, c):
		return same
	case m.repo == nil:
		return unrelated
	}
	return m.repo.relate(ctx, m.want, c)
}

// history is the GitOps repository, read to tell a descendant from an
// older or unrelated commit. A URL is cloned into memory, and again when
// an object names a commit the clone does not have yet.
type history struct {
	url, token string

	mu    sync.Mutex
	repo  *git.Repository
	local bool
	// recloned are the commits a fresh clone was made for already.
	recloned map[string]bool
}

func openHistory(ctx context.Context, url, token string) (*history, error) {
	h := &history{url: url, token: token, recloned: map[string]bool{}}
	if st, err := os.Stat(url); err == nil && st.IsDir() {
		repo, err := git.PlainOpen(url) // a bare repository, or a checkout's top
		if err != nil {
			repo, err = git.PlainOpenWithOptions(url, &git.PlainOpenOptions{DetectDotGit: true})
		}
		if err != nil {
			return nil, fmt.Errorf("--gitops-repo %s: %w", url, err)
		}
		h.repo, h.local = repo, true
		return h, nil
	}
	if err := h.clone(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *history) clone(ctx context.Context) error {
	opts := &git.CloneOptions{URL: h.url, NoCheckout: true, Tags: git.NoTags}
	if h.token != "" {
		opts.Auth = &githttp.BasicAuth{Username: "x-access-token", Password: h.token}
	}
	repo, err := git.CloneContext(ctx, memory.NewStorage(), nil, opts)
	if err != nil {
		return fmt.Errorf("clone --gitops-repo: %w", err)
	}
	h.repo = repo
	return nil
}

func (h *history) commit(c string) (*object.Commit, error) {
	if len(c) == 40 {
		return h.repo.CommitObject(plumbing.NewHash(c))
	}
	hash, err := h.repo.ResolveRevision(plumbing.Revision(c))
	if err != nil {
		return nil, err
	}
	return h.repo.CommitObject(*hash)
}

func (h *history) relate(ctx context.Context, want, got string) relation {
	h.mu.Lock()
	defer h.mu.Unlock()
	w, errW := h.commit(want)
	g, errG := h.commit(got)
	if (errW != nil || errG != nil) && !h.local && !h.recloned[got] {
		// Pushed after the clone: look again, once per such commit.
		h.recloned[got] = true
		if err := h.clone(ctx); err == nil {
			w, errW = h.commit(want)
			g, errG = h.commit(got)
		}
	}
	if errW != nil || errG != nil {
		return unrelated
	}
	if ok, err := w.IsAncestor(g); err == nil && ok {
		return descendant
	}
	if ok, err := g.IsAncestor(w); err == nil && ok {
		return older
	}
	return unrelated
}

// errBadRevision is a --revision that is not a commit hash.
var errBadRevision = errors.New("want a commit SHA, 7 to 40 hex digits")

func parseRevision(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !regexp.MustCompile(`^[0-9a-f]{7,40}$`).MatchString(s) {
		return "", errBadRevision
	}
	return s, nil
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
