package gitdir

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	git "github.com/go-git/go-git/v5"
)

// FuzzConfigAsGoGit holds the config reader to go-git's, which package ci
// read the checkout with before: in a repository with the config src,
// Find fails where go-git's PlainOpen does, and the origin's URL is the
// same.
func FuzzConfigAsGoGit(f *testing.F) {
	for _, s := range []string{
		"[remote \"origin\"]\n\turl = https://example.com/a.git\n",
		"[core]\n\tbare = false\n[remote \"origin\"]\n\turl = \"gh:acme/a\\\"pp\" ; c\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[url \"https://github.com/\"]\n\tinsteadOf = gh:\n",
		"[remote \"origin\"]\n\tpushurl = https://example.com/\\\nx.git  \n",
		"[branch \"main\"]\n\trebase = merges\n",
		"# c\n; c\n[Remote \"origin\"]\nURL=x\n",
		"[remote \"origin\"]\n\turl\n",
		"[core]\n\trepositoryformatversion = 1\n[extensions]\n\tpartialclone = origin\n",
		"[pack]\n\twindow = x\n",
		"[remote \"origin\"]\n\turl = a\\tb\\n\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	for _, d := range []string{"objects", "refs/heads"} {
		if err := os.MkdirAll(filepath.Join(dir, ".git", d), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if err := os.WriteFile(filepath.Join(dir, ".git", "config"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		got := "no repository"
		if r, err := Find(dir); err == nil {
			got = "no origin"
			if url, err := r.RemoteURL("origin"); err == nil {
				got = "origin " + url
			}
		}
		if want := goGitOrigin(dir); got != want {
			t.Fatalf("config %q: read %s; go-git read %s", src, got, want)
		}
	})
}

func goGitOrigin(dir string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("go-git panicked: %v", r)
		}
	}()
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "no repository"
	}
	remote, err := repo.Remote("origin")
	if err != nil || len(remote.Config().URLs) == 0 {
		return "no origin"
	}
	return "origin " + remote.Config().URLs[0]
}
