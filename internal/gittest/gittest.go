// Package gittest makes real git repositories for tests: bare repositories
// on disk created and read with the git CLI, a pre-receive hook that counts
// and can reject pushes, and git http-backend served over HTTP with basic
// auth. Nothing is mocked: what go-git talks to is git itself.
package gittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The identity of the commits gittest makes.
const (
	AuthorName  = "gittest"
	AuthorEmail = "gittest@example.com"
)

// RepoName is the directory name Bare gives the repository under its root,
// and so the path of the repository on the HTTP server: URL + "/" + RepoName.
const RepoName = "repo.git"

// Bare creates a bare repository with one commit, "initial", on branch
// holding files (slash-separated path to content), and returns its path,
// whose parent directory is the root to give HTTP. Pushes to it are
// counted (Pushes) and can be made to fail (RejectPushes).
func Bare(t testing.TB, files map[string]string, branch string) string {
	t.Helper()
	root := t.TempDir()
	repo := filepath.Join(root, RepoName)
	Git(t, root, "init", "--quiet", "--bare", "--initial-branch="+branch, repo)

	work := t.TempDir()
	for name, content := range files {
		p := filepath.Join(work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wt := []string{"--git-dir=" + repo, "--work-tree=" + work}
	Git(t, root, append(wt, "add", "--all")...)
	Git(t, root, append(wt, "commit", "--quiet", "--allow-empty", "-m", "initial")...)

	hook := filepath.Join(repo, "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte(preReceive), 0o755); err != nil {
		t.Fatal(err)
	}
	return repo
}

// preReceive logs every push that reaches the server to gittest-pushes.
// While fewer pushes than gittest-reject-limit have been refused, it
// refuses the push with the text of gittest-reject-message, as a policy
// hook or branch protection does. While fewer than gittest-race-limit
// have raced, it lets the push lose a race: it moves each pushed ref on
// by one commit of its own (or creates it at HEAD) before git updates it,
// as another push landing first does, so git's own compare-and-swap of
// the ref refuses the update. Hooks of a bare repository run in it; the
// commit is written outside the push's quarantine.
const preReceive = `#!/bin/sh
updates=$(cat)
echo push >>gittest-pushes
limit=$(cat gittest-reject-limit 2>/dev/null || echo 0)
done=$(cat gittest-rejected 2>/dev/null | wc -l)
if [ "$done" -lt "$limit" ]; then
	echo rejected >>gittest-rejected
	if [ -f gittest-reject-message ]; then
		cat gittest-reject-message >&2
	else
		echo "gittest: push $((done + 1)) of $limit rejected" >&2
	fi
	exit 1
fi
limit=$(cat gittest-race-limit 2>/dev/null || echo 0)
done=$(cat gittest-raced 2>/dev/null | wc -l)
if [ "$done" -lt "$limit" ]; then
	echo raced >>gittest-raced
	echo "$updates" | while read -r old new ref; do
		[ -n "$ref" ] || continue
		(
			unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
			export GIT_AUTHOR_NAME=gittest GIT_AUTHOR_EMAIL=gittest@example.com
			export GIT_COMMITTER_NAME=gittest GIT_COMMITTER_EMAIL=gittest@example.com
			case $old in
			*[!0]*) c=$(git commit-tree -p "$old" -m "gittest: a push that got there first" "$old^{tree}") ;;
			*) c=$(git rev-parse HEAD) ;;
			esac
			git update-ref "$ref" "$c"
		)
	done
fi
`

// RejectPushes makes the pre-receive hook of repo (made by Bare) refuse the
// next n pushes, as a hook or branch protection does, printing message
// (empty: "gittest: push i of n rejected") to the pusher.
func RejectPushes(t testing.TB, repo string, n int, message ...string) {
	t.Helper()
	_ = os.Remove(filepath.Join(repo, "gittest-rejected"))
	if err := os.WriteFile(filepath.Join(repo, "gittest-reject-limit"), []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	msgFile := filepath.Join(repo, "gittest-reject-message")
	_ = os.Remove(msgFile)
	if len(message) > 0 {
		if err := os.WriteFile(msgFile, []byte(strings.Join(message, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// RacePushes makes the next n pushes to repo (made by Bare) lose a race:
// another commit lands on the pushed branch while git receives the push,
// so git refuses it ("failed to update ref"), as a server does when
// another push got there first.
func RacePushes(t testing.TB, repo string, n int) {
	t.Helper()
	_ = os.Remove(filepath.Join(repo, "gittest-raced"))
	if err := os.WriteFile(filepath.Join(repo, "gittest-race-limit"), []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Pushes is how many pushes reached repo's pre-receive hook, rejected ones
// included.
func Pushes(t testing.TB, repo string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "gittest-pushes"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// Files reads the tree at branch of repo: slash-separated path to content.
func Files(t testing.TB, repo, branch string) map[string]string {
	t.Helper()
	files := map[string]string{}
	ref := "refs/heads/" + branch
	for _, name := range strings.Split(Git(t, repo, "ls-tree", "-r", "--name-only", "-z", ref), "\x00") {
		if name == "" {
			continue
		}
		files[name] = Git(t, repo, "show", ref+":"+name)
	}
	return files
}

// Log is the subjects of the commits on branch of repo, newest first.
func Log(t testing.TB, repo, branch string) []string {
	t.Helper()
	out := strings.TrimSpace(Git(t, repo, "log", "--format=%s", "refs/heads/"+branch))
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// Head is the commit at branch of repo, "" when there is no such branch.
func Head(t testing.TB, repo, branch string) string {
	t.Helper()
	cmd := command(repo, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch+"^{commit}")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Git runs git with args in dir, isolated from the user's and the system's
// configuration, and returns its standard output; it fails t on error.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := command(dir, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func command(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), Env(dir)...)
	return cmd
}

// Env is the environment gittest runs git with: no global or system
// configuration, a fixed identity, HOME in home.
func Env(home string) []string {
	return []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"HOME=" + home,
		"GIT_TERMINAL_PROMPT=0",
		fmt.Sprintf("GIT_AUTHOR_NAME=%s", AuthorName),
		fmt.Sprintf("GIT_AUTHOR_EMAIL=%s", AuthorEmail),
		fmt.Sprintf("GIT_COMMITTER_NAME=%s", AuthorName),
		fmt.Sprintf("GIT_COMMITTER_EMAIL=%s", AuthorEmail),
	}
}

// Command is git with args to run in dir, in the environment of Git.
func Command(dir string, args ...string) *exec.Cmd { return command(dir, args...) }
