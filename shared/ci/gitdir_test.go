package ci

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/gittest"
)

// TestFillFromGitAsGoGit: the Context read from a checkout is the one
// go-git read before package ci stopped linking it (fillFromGoGit), on
// repositories of every shape a checkout takes: loose and packed objects
// and refs, commits stored as deltas (by offset and by hash), annotated,
// nested and lightweight tags, a detached or unborn HEAD, a .git file, a
// linked worktree, alternates, a shallow clone, insteadOf rules, quoted
// and commented configs, and SHAs a platform gives that are short,
// upper-case or absent.
func TestFillFromGitAsGoGit(t *testing.T) {
	shapes := []struct {
		name string
		// make returns the directory to read from; shas are commits to
		// ask about as a platform's SHA besides HEAD's.
		make func(t *testing.T) (dir string, shas []string)
		// deltas, when set, is the least number of commits the repository
		// must store as deltas, so the shape does test them.
		deltas int
	}{
		{name: "not a repository", make: func(t *testing.T) (string, []string) { return t.TempDir(), nil }},
		{name: "unborn branch", make: func(t *testing.T) (string, []string) {
			dir := initRepo(t)
			gittest.Git(t, dir, "remote", "add", "origin", "https://example.com/acme/app.git")
			return dir, nil
		}},
		{name: "loose objects, annotated tag", make: func(t *testing.T) (string, []string) {
			dir := initRepo(t)
			gittest.Git(t, dir, "remote", "add", "origin", "https://bot:s3cret@example.com/acme/app.git")
			commit(t, dir, "one", "2026-01-02T03:04:05+02:00")
			gittest.Git(t, dir, "tag", "-a", "v0.1.0", "-m", "release")
			return filepath.Join(dir), nil
		}},
		{name: "packed refs and objects, from a subfolder", make: func(t *testing.T) (string, []string) {
			dir := history(t, 5)
			gittest.Git(t, dir, "tag", "-a", "v1.0.0", "-m", "release")
			gittest.Git(t, dir, "tag", "light", "HEAD~1")
			gittest.Git(t, dir, "gc", "-q")
			sub := filepath.Join(dir, "deploy", "chart")
			os.MkdirAll(sub, 0o755)
			return sub, revList(t, dir)
		}},
		{name: "commits as offset deltas", deltas: 5, make: func(t *testing.T) (string, []string) {
			dir := history(t, 40)
			gittest.Git(t, dir, "repack", "-adfq", "--window=250", "--depth=50")
			return dir, revList(t, dir)
		}},
		{name: "commits as hash deltas", deltas: 5, make: func(t *testing.T) (string, []string) {
			dir := history(t, 40)
			gittest.Git(t, dir, "-c", "repack.useDeltaBaseOffset=false", "repack", "-adfq", "--window=250", "--depth=50")
			return dir, revList(t, dir)
		}},
		{name: "two packs and loose objects", make: func(t *testing.T) (string, []string) {
			dir := history(t, 3)
			gittest.Git(t, dir, "repack", "-adq")
			commit(t, dir, "four", "2026-03-01T00:00:00Z")
			gittest.Git(t, dir, "repack", "-dq")
			commit(t, dir, "five", "2026-03-02T00:00:00-11:00")
			return dir, revList(t, dir)
		}},
		{name: "detached HEAD at a tagged commit", make: func(t *testing.T) (string, []string) {
			dir := history(t, 3)
			gittest.Git(t, dir, "tag", "v2", "HEAD~1")
			gittest.Git(t, dir, "checkout", "-q", "--detach", "HEAD~1")
			return dir, nil
		}},
		{name: "tags in order: nested, loose over packed, tag of a tag", make: func(t *testing.T) (string, []string) {
			dir := history(t, 2)
			gittest.Git(t, dir, "tag", "-a", "z-packed", "-m", "z")
			gittest.Git(t, dir, "pack-refs", "--all")
			gittest.Git(t, dir, "tag", "-a", "inner", "-m", "inner", "HEAD~1")
			gittest.Git(t, dir, "tag", "-a", "outer", "-m", "outer", "inner")
			gittest.Git(t, dir, "tag", "release/b", "HEAD")
			gittest.Git(t, dir, "tag", "-a", "release/a", "-m", "a", "HEAD")
			return dir, revList(t, dir)
		}},
		{name: "tag of a tag only", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			gittest.Git(t, dir, "tag", "-a", "inner", "-m", "inner")
			gittest.Git(t, dir, "tag", "-a", "outer", "-m", "outer", "inner")
			gittest.Git(t, dir, "tag", "-d", "inner")
			return dir, nil
		}},
		{name: "empty loose tag ref", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			gittest.Git(t, dir, "tag", "v1")
			os.WriteFile(filepath.Join(dir, ".git", "refs", "tags", "broken"), nil, 0o644)
			return dir, nil
		}},
		{name: "separate git dir", make: func(t *testing.T) (string, []string) {
			dir, gitDir := t.TempDir(), filepath.Join(t.TempDir(), "repo.git")
			gittest.Git(t, dir, "init", "-q", "-b", "main", "--separate-git-dir", gitDir)
			commit(t, dir, "one", "2026-01-02T03:04:05Z")
			gittest.Git(t, dir, "remote", "add", "origin", "git@github.com:acme/app.git")
			return dir, nil
		}},
		{name: "relative .git file", make: func(t *testing.T) (string, []string) {
			dir := history(t, 2)
			os.Rename(filepath.Join(dir, ".git"), filepath.Join(dir, "real.git"))
			os.WriteFile(filepath.Join(dir, ".git"), []byte("gitdir: real.git\n"), 0o644)
			return dir, nil
		}},
		{name: "linked worktree", make: func(t *testing.T) (string, []string) {
			dir := history(t, 2)
			wt := filepath.Join(t.TempDir(), "wt")
			gittest.Git(t, dir, "worktree", "add", "-q", wt, "HEAD~1")
			return wt, revList(t, dir)
		}},
		// go-git never found an object through alternates outside the
		// git directory: the commit time stays unknown, as before.
		{name: "alternates", make: func(t *testing.T) (string, []string) {
			src := history(t, 3)
			gittest.Git(t, src, "gc", "-q")
			dir := filepath.Join(t.TempDir(), "clone")
			gittest.Git(t, src, "clone", "-q", "--shared", src, dir)
			return dir, revList(t, src)
		}},
		{name: "shallow clone", make: func(t *testing.T) (string, []string) {
			src := history(t, 120)
			dir := filepath.Join(t.TempDir(), "clone")
			gittest.Git(t, src, "clone", "-q", "--depth", "1", "file://"+src, dir)
			return dir, revList(t, src)[:3]
		}},
		{name: "config: insteadOf, quotes, comments, pushurl", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			appendConfig(t, dir, `
[url "https://github.com/"]
	insteadOf = gh:
[url "https://mirror.example.com/"] ; a comment
	InsteadOf = "gh:acme/"   # longer, wins
[remote "origin"]
	url = "gh:acme/a\"pp\\x" ; trailing
	url = https://second.example.com/x
	fetch = +refs/heads/*:refs/remotes/origin/*
[remote "Origin"]
	url = https://wrong-case.example.com/x
`)
			return dir, nil
		}},
		{name: "config: pushurl only, continued line", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			appendConfig(t, dir, "[remote \"origin\"]\n\tpushurl = https://example.com/\\\nacme/app.git  \n")
			return dir, nil
		}},
		{name: "config go-git refuses: branch rebase = merges", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			appendConfig(t, dir, "[branch \"main\"]\n\trebase = merges\n")
			return dir, nil
		}},
		{name: "config go-git refuses: bad refspec", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			appendConfig(t, dir, "[remote \"origin\"]\n\turl = https://example.com/a.git\n\tfetch = refs/heads/*\n")
			return dir, nil
		}},
		{name: "config syntax error", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			appendConfig(t, dir, "[remote \"origin\"]\n\turl = \"https://example.com/a.git\n")
			return dir, nil
		}},
		{name: "HEAD pointing out of refs", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: ../../../etc/passwd\n"), 0o644)
			return dir, nil
		}},
		{name: "partial clone: an extension go-git does not know", make: func(t *testing.T) (string, []string) {
			src := history(t, 2)
			gittest.Git(t, src, "config", "uploadpack.allowFilter", "true")
			dir := filepath.Join(t.TempDir(), "clone")
			gittest.Git(t, src, "clone", "-q", "--filter=blob:none", "file://"+src, dir)
			return dir, nil
		}},
		{name: "format version 1, noop extension", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			appendConfig(t, dir, "[core]\n\trepositoryformatversion = 1\n[extensions]\n\tnoop-v1 = true\n")
			return dir, nil
		}},
		{name: "empty HEAD", make: func(t *testing.T) (string, []string) {
			dir := history(t, 1)
			os.WriteFile(filepath.Join(dir, ".git", "HEAD"), nil, 0o644)
			return dir, nil
		}},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			dir, shas := shape.make(t)
			if shape.deltas > 0 {
				if n := deltaCommits(t, dir); n < shape.deltas {
					t.Fatalf("the pack holds %d commits as deltas, want at least %d: the shape does not test deltas", n, shape.deltas)
				}
			}
			head := strings.TrimSpace(string(must(gittest.Command(dir, "rev-parse", "-q", "--verify", "HEAD").Output())))
			asked := append([]string{"", head, strings.ToUpper(head), "abc", "zz" + head, head + "00", strings.Repeat("0", 40)}, shas...)
			for _, sha := range asked {
				for _, c := range []Context{
					{Platform: "local"},
					{Platform: "github", SHA: sha, Ref: "refs/pull/7/merge"},
					{Platform: "azure", SHA: sha, RepositoryURL: "https://dev.azure.com/o/p/_git/r", Workspace: "rel"},
				} {
					got, want := fillFromGit(c, dir), fillFromGoGit(c, dir)
					if got != want {
						t.Errorf("SHA %q, %s: fillFromGit =\n %+v\ngo-git read\n %+v", sha, c.Platform, got, want)
					}
				}
			}
		})
	}
}

func must(b []byte, err error) []byte { return b }

func initRepo(t *testing.T) string {
	dir := t.TempDir()
	gittest.Git(t, dir, "init", "-q", "-b", "main")
	return dir
}

func commit(t *testing.T, dir, message, date string) {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "f"), []byte(message), 0o644)
	gittest.Git(t, dir, "add", "f")
	cmd := gittest.Command(dir, "commit", "-q", "-m", message)
	cmd.Env = append(cmd.Env, "GIT_COMMITTER_DATE="+date, "GIT_AUTHOR_DATE="+date)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git commit: %v\n%s", err, out)
	}
}

// history makes a repository with n commits whose long, alike messages
// git packs as deltas of each other.
func history(t *testing.T, n int) string {
	dir := initRepo(t)
	gittest.Git(t, dir, "remote", "add", "origin", "https://example.com/acme/app.git")
	body := strings.Repeat("the same long paragraph that makes the commits alike enough to delta\n", 40)
	for i := range n {
		date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", (i%5-2)*3600)).Add(time.Duration(i) * time.Hour)
		commit(t, dir, fmt.Sprintf("commit %d\n\n%s%d", i, body, i), date.Format(time.RFC3339))
	}
	return dir
}

func revList(t *testing.T, dir string) []string {
	return strings.Fields(gittest.Git(t, dir, "rev-list", "--all"))
}

func appendConfig(t *testing.T, dir, text string) {
	f, err := os.OpenFile(filepath.Join(dir, ".git", "config"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(text)
}

// deltaCommits counts the commits the packs of dir store as deltas.
func deltaCommits(t *testing.T, dir string) int {
	packs, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*.idx"))
	n := 0
	delta := regexp.MustCompile(`(?m)^[0-9a-f]{40} commit +\d+ \d+ \d+ \d+ [0-9a-f]{40}$`)
	for _, p := range packs {
		n += len(delta.FindAllString(gittest.Git(t, dir, "verify-pack", "-v", p), -1))
	}
	return n
}
