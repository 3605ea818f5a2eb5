// Package gitdir reads, without go-git, the little a step asks of the
// checkout it runs in: where the repository is, what HEAD points at, the
// tag at a commit, a commit's committer date and a remote's URL. It reads
// the .git directory the way go-git's PlainOpen (DetectDotGit, no common
// dir) does, so package ci's Context stays what it was while a step that
// never touches git history (lint, validate) does not link go-git.
//
// It only reads: loose and packed refs, the config file, and loose or
// packed objects (deltas resolved) by their full hash.
package gitdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is returned for a ref, object or remote that is not there.
var ErrNotFound = errors.New("not found")

// Repo is a repository found around a directory.
type Repo struct {
	// Worktree is the directory holding .git.
	Worktree string
	// Dir is the git directory (.git, or where a .git file points).
	Dir string

	config []option
}

// Find looks for .git in dir and its parents (a .git file's "gitdir:" is
// followed) and checks the git directory has a HEAD, as go-git's
// PlainOpenWithOptions with DetectDotGit does, and reads its config: one
// go-git refuses (see readConfig) makes no repository either. dir is made
// absolute.
func Find(dir string) (*Repo, error) {
	path, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for {
		root := path
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
			root = filepath.Dir(path)
		} else if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		fi, err := os.Stat(filepath.Join(root, ".git"))
		if err == nil {
			r := &Repo{Worktree: root, Dir: filepath.Join(root, ".git")}
			if !fi.IsDir() {
				if r.Dir, err = readGitFile(path, filepath.Join(root, ".git")); err != nil {
					return nil, err
				}
			}
			if _, err := os.Stat(r.Dir); err != nil {
				return nil, fmt.Errorf("git directory %s: %w", r.Dir, err)
			}
			// No HEAD is no repository; a HEAD that cannot be read (a bad
			// packed-refs) is a repository whose HEAD fails, as in go-git.
			if _, err := r.readRef("HEAD"); errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("%s: HEAD: %w", r.Dir, err)
			}
			if r.config, err = readConfig(r.Dir); err != nil {
				return nil, err
			}
			return r, nil
		}
		if !os.IsNotExist(err) {
			return nil, err
		}
		parent := filepath.Dir(path)
		if parent == path {
			return nil, fmt.Errorf("no git repository at %s or above: %w", dir, ErrNotFound)
		}
		path = parent
	}
}

// readGitFile reads a .git file's "gitdir: <path>", relative to path.
func readGitFile(path, file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	const prefix = "gitdir: "
	line := string(b)
	if !strings.HasPrefix(line, prefix) {
		return "", fmt.Errorf("%s has no %q prefix", file, prefix)
	}
	gitdir := strings.TrimSpace(strings.Split(line[len(prefix):], "\n")[0])
	if filepath.IsAbs(gitdir) {
		return gitdir, nil
	}
	return filepath.Join(path, gitdir), nil
}
