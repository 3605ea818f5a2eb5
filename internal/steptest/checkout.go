package steptest

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CommitDate is the author and committer date of every Checkout's
// commit, so labels and messages derived from it are stable.
const CommitDate = "2026-01-02T03:04:05+02:00"

// Repo describes a Checkout.
type Repo struct {
	// From is a directory copied in first, e.g. examples/app.
	From string
	// Files are written next (slash-separated path to content).
	Files map[string]string
	// Remote, when set, is origin's URL.
	Remote string
	// Tag, when set, tags the commit.
	Tag string
}

// Checkout makes the git checkout a CI job would have: r's files on
// branch main in one commit at CommitDate. It returns the directory and
// the commit's SHA.
func Checkout(t testing.TB, r Repo) (dir, sha string) {
	t.Helper()
	dir = t.TempDir()
	if r.From != "" {
		if err := os.CopyFS(dir, os.DirFS(r.From)); err != nil {
			t.Fatal(err)
		}
		// CopyFS keeps read-only modes; tests write into the checkout.
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				os.Chmod(p, 0o644)
			}
			return nil
		})
	}
	for name, content := range r.Files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@x", "GIT_AUTHOR_DATE="+CommitDate, "GIT_COMMITTER_DATE="+CommitDate,
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	if r.Remote != "" {
		git("remote", "add", "origin", r.Remote)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "app")
	if r.Tag != "" {
		git("tag", r.Tag)
	}
	return dir, git("rev-parse", "HEAD")
}

// Outputs reads the outputs a local or Cloud Build run of step wrote to
// dir/.gitship/<step>.json.
func Outputs(t testing.TB, dir, step string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, ".gitship", step+".json"))
	if err != nil {
		t.Fatalf("outputs of %s: %v", step, err)
	}
	var out map[string]string
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("outputs of %s: %v", step, err)
	}
	return out
}
