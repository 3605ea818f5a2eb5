package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/gittest"
)

// With the GitOps repository, a later commit counts and an earlier one
// does not; without it only the commit itself does. The repository is
// read from disk and over HTTP (git http-backend), where a commit pushed
// after the first clone is found by a second one.
func TestRelate(t *testing.T) {
	bare := gittest.Bare(t, map[string]string{"a": "1"}, "main")
	work := t.TempDir()
	gittest.Git(t, work, "clone", "--quiet", bare, ".")
	commit := func(msg string) string {
		if err := os.WriteFile(filepath.Join(work, "a"), []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		gittest.Git(t, work, "commit", "--quiet", "-am", msg)
		gittest.Git(t, work, "push", "--quiet", "origin", "HEAD")
		return strings.TrimSpace(gittest.Git(t, work, "rev-parse", "HEAD"))
	}
	first := commit("first")
	wanted := commit("wanted")
	later := commit("later")
	gittest.Git(t, work, "checkout", "--quiet", "-b", "side", first)
	side := commit("side")
	gittest.Git(t, work, "checkout", "--quiet", "main")

	url := gittest.HTTP(t, filepath.Dir(bare), "") + "/" + gittest.RepoName
	ctx := context.Background()
	for _, repo := range []string{bare, url} {
		h, err := openHistory(ctx, repo, "")
		if err != nil {
			t.Fatal(err)
		}
		pushedLater := ""
		if repo == url {
			pushedLater = commit("pushed after the clone")
		}
		m := &matcher{want: wanted, repo: h}
		for _, tt := range []struct {
			rev  string
			want relation
		}{
			{"main@sha1:" + wanted, same},
			{"main@sha1:" + later, descendant},
			{"0.1.0+" + later[:12], descendant},
			{"main@sha1:" + first, older},
			{"side@sha1:" + side, unrelated},
			{"main@sha1:" + strings.Repeat("e", 40), unrelated},
			{"6.5.4", noCommit},
		} {
			if got := m.relate(ctx, tt.rev); got != tt.want {
				t.Errorf("%s: relate(%s) = %d, want %d", repo, tt.rev, got, tt.want)
			}
		}
		if pushedLater != "" {
			if got := m.relate(ctx, "main@sha1:"+pushedLater); got != descendant {
				t.Errorf("relate(a commit pushed after the clone) = %d, want descendant", got)
			}
		}
		if got := (&matcher{want: wanted}).relate(ctx, "main@sha1:"+later); got != unrelated {
			t.Errorf("without the repository relate(later) = %d, want unrelated", got)
		}
	}
}
