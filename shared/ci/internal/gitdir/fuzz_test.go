package gitdir

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
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
	dir := skeleton(f, "ref: refs/heads/main\n")
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

func goGitOrigin(dir string) string {
	return withGoGit(dir, func(repo *git.Repository) string {
		remote, err := repo.Remote("origin")
		if err != nil || len(remote.Config().URLs) == 0 {
			return "no origin"
		}
		return "origin " + remote.Config().URLs[0]
	})
}

// withGoGit opens dir as ci did with go-git and describes what f reads
// there; no repository, or go-git panicking, is described too.
func withGoGit(dir string, f func(*git.Repository) string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("go-git panicked: %v", r)
		}
	}()
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "no repository"
	}
	return f(repo)
}

// FuzzRefsAsGoGit holds the ref reader to go-git's: with any HEAD, loose
// branch and tag and packed-refs, HEAD resolves to the same name and
// commit (or fails alike), and the same tag is found at that commit.
func FuzzRefsAsGoGit(f *testing.F) {
	const a, b = "0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"
	f.Add("ref: refs/heads/main\n", a+"\n", a+"\n", "# pack-refs with: peeled fully-peeled sorted \n"+b+" refs/tags/v2\n^"+a+"\n")
	f.Add(a+"\n", "", "", a+" refs/tags/v1\n"+a+" refs/heads/main\n")
	f.Add("ref: refs/heads/other\n", "ref: refs/heads/main\n", b, b+" refs/heads/other\n")
	f.Add("ref: refs/tags/v1\n", "", "\n", "")
	f.Fuzz(func(t *testing.T, head, branch, tag, packed string) {
		dir := skeleton(t, head)
		if err := os.MkdirAll(filepath.Join(dir, ".git", "refs", "tags", "nested"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range map[string]string{"refs/heads/main": branch, "refs/tags/nested/t": tag, "packed-refs": packed} {
			if content == "" {
				continue // no such file
			}
			if err := os.WriteFile(filepath.Join(dir, ".git", name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}

		got := "no repository"
		if r, err := Find(dir); err == nil {
			got = "no HEAD"
			if name, h, err := r.Head(); err == nil {
				got = fmt.Sprintf("%s %s tag %q", name, h, r.TagAt(h))
			}
		}
		if want := goGitHead(dir); got != want {
			t.Fatalf("HEAD %q, main %q, tag %q, packed-refs %q:\n read %s\n go-git read %s", head, branch, tag, packed, got, want)
		}
	})
}

func goGitHead(dir string) string {
	return withGoGit(dir, func(repo *git.Repository) string {
		head, err := repo.Head()
		if err != nil {
			return "no HEAD"
		}
		tag := ""
		if tags, err := repo.Tags(); err == nil {
			_ = tags.ForEach(func(ref *plumbing.Reference) error {
				h := ref.Hash()
				if to, err := repo.TagObject(h); err == nil {
					h = to.Target
				}
				if h == head.Hash() {
					tag = ref.Name().Short()
					return errors.New("stop")
				}
				return nil
			})
		}
		return fmt.Sprintf("%s %s tag %q", head.Name(), head.Hash(), tag)
	})
}

// FuzzObjectsAsGoGit holds the commit and tag readers to go-git's: for a
// commit object of any text the same committer time is read (or the
// object refused alike), and for a tag object of any text the same target.
func FuzzObjectsAsGoGit(f *testing.F) {
	const tree = "4b825dc642cb6eb9a060e54bf8d69288fbe4904d"
	for _, seed := range [][2]string{
		{"tree " + tree + "\nauthor a <a@x> 1700000000 +0100\ncommitter c <c@x> 1700000001 -0230\n\nmessage\n", "object " + tree + "\ntype commit\ntag v1\ntagger t <t@x> 1 +0000\n\nm\n"},
		{"tree " + tree + "\nparent " + tree + "\ncommitter c <c@x> 17\ngpgsig -----BEGIN\n more\n\nm", "object " + tree},
		{"tree x\n", "object " + tree + "\n"},
		{"\ntree " + tree + "\n", "object " + tree + "\ntype blob"},
		{"tree " + tree + "\nparent x\n", "object " + tree + "\ntype nothing\ntag x\n"},
		{"tree " + tree + "\nencoding x\ncommitter c <c@x> 5 +0000\n", "object " + tree + "\ntype tag\n"},
		{"tree " + tree + "\ncommitter c <c@x>\n", "object " + tree + "\ntag v\ntype commit\n"},
		{"tree " + tree + "\ncommitter c <c@x>  9\n", "object " + strings.ToUpper(tree) + "\ntype commit\ntag v"},
		{"tree " + tree + "\nauthor a <a@x> 1 +0000\nauthor b <b@x> 2 +0000\ncommitter c <c@x> 3 +0000\n", "type commit\nobject " + tree + "\n"},
		{"tree " + tree + "\ncommitter c > <c@x 4 +0000\n", ""},
		{"tree " + tree + "\r\ncommitter c <c@x> 4 +0000\r\n", "object " + tree + "\r\ntype commit\r\ntag v\r\n"},
		{"tree " + tree + "\ncommitter c <c@x> -4 +0000\n", "object  " + tree + "\n"},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	dir := skeleton(f, "ref: refs/heads/main\n")
	r, err := Find(dir)
	if err != nil {
		f.Fatal(err)
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, commit, tag string) {
		c := writeLoose(t, dir, "commit", commit)
		tg := writeLoose(t, dir, "tag", tag)
		got := "refused"
		if when, err := r.CommitTime(c); err == nil {
			got = when.String()
		}
		gotTag := "refused"
		if target, err := r.tagTarget(tg); err == nil {
			gotTag = target.String()
		}
		want, wantTag := goGitObjects(repo, c, tg)
		if got != want || gotTag != wantTag {
			t.Fatalf("commit %q: read %s, go-git %s\ntag %q: read %s, go-git %s", commit, got, want, tag, gotTag, wantTag)
		}
	})
}

func writeLoose(t *testing.T, dir, typ, content string) Hash {
	raw := fmt.Sprintf("%s %d\x00%s", typ, len(content), content)
	h := Hash(sha1.Sum([]byte(raw)))
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write([]byte(raw))
	w.Close()
	path := filepath.Join(dir, ".git", "objects", h.String()[:2], h.String()[2:])
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

func goGitObjects(repo *git.Repository, commit, tag Hash) (when, target string) {
	when, target = "refused", "refused"
	func() {
		defer func() { recover() }()
		if c, err := repo.CommitObject(plumbing.Hash(commit)); err == nil {
			when = c.Committer.When.UTC().String()
		}
	}()
	func() {
		defer func() { recover() }()
		if to, err := repo.TagObject(plumbing.Hash(tag)); err == nil {
			target = to.Target.String()
		}
	}()
	return when, target
}

// skeleton makes a repository's .git with objects/, refs/heads/ and head
// as HEAD.
func skeleton(tb testing.TB, head string) string {
	dir := tb.TempDir()
	for _, d := range []string{"objects", "refs/heads"} {
		if err := os.MkdirAll(filepath.Join(dir, ".git", d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte(head), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}
