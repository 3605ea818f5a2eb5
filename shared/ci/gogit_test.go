package ci

import (
	"errors"
	"path/filepath"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// fillFromGoGit is fillFromGit as it was when it read the repository with
// go-git: TestFillFromGitAsGoGit holds the reader package ci uses now to
// what go-git read, on repositories of every shape a checkout takes.
func fillFromGoGit(c Context, dir string) Context {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		if c.Workspace == "" {
			c.Workspace = dir
		}
		return c.finish()
	}
	if wt, err := repo.Worktree(); err == nil && c.Workspace == "" {
		c.Workspace = wt.Filesystem.Root()
	}
	if c.Workspace == "" {
		c.Workspace = dir
	}
	head, err := repo.Head()
	if err == nil {
		if c.SHA == "" {
			c.SHA = head.Hash().String()
		}
		if c.Ref == "" && head.Name().IsBranch() {
			c.Ref = head.Name().String()
		}
		if c.Tag == "" && c.SHA == head.Hash().String() {
			c.Tag = goGitTagAt(repo, head.Hash())
		}
	}
	if c.SHA != "" {
		if commit, err := repo.CommitObject(plumbing.NewHash(c.SHA)); err == nil {
			c.CommitTime = commit.Committer.When.UTC()
		}
	}
	if c.RepositoryURL == "" {
		if remote, err := repo.Remote("origin"); err == nil && len(remote.Config().URLs) > 0 {
			c.RepositoryURL = remote.Config().URLs[0]
		}
	}
	if c.Workspace != "" {
		if abs, err := filepath.Abs(c.Workspace); err == nil {
			c.Workspace = abs
		}
	}
	return c.finish()
}

// tagAt returns a tag pointing at the commit, lightweight or annotated.
func goGitTagAt(repo *git.Repository, commit plumbing.Hash) string {
	tags, err := repo.Tags()
	if err != nil {
		return ""
	}
	var found string
	errStop := errors.New("stop")
	_ = tags.ForEach(func(ref *plumbing.Reference) error {
		h := ref.Hash()
		if tag, err := repo.TagObject(h); err == nil {
			h = tag.Target
		}
		if h == commit {
			found = ref.Name().Short()
			return errStop
		}
		return nil
	})
	return found
}
