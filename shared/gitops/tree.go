package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
)

// Committing without a worktree. A GitOps repository holds every
// environment of every app: 20,000 files is ordinary. go-git's checkout
// writes each of them and its add-all scans each again, 3x the git CLI's
// time on such a repository (bench/gitops.sh). When Update.Paths names
// what Write changes, the clone is not checked out: only the base's files
// under those paths are written for Write to see, and the commit is made
// by hashing what is there into blobs and trees spliced into the base's
// tree. The other files are never touched.

// materialise writes the files of base under p into dir, as a checkout
// of those paths would.
func materialise(repo *git.Repository, base *object.Tree, p, dir string) error {
	t, err := base.Tree(p)
	if errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return t.Files().ForEach(func(f *object.File) error {
		out := filepath.Join(dir, filepath.FromSlash(p), filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		c, err := f.Contents()
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if f.Mode == filemode.Executable {
			mode = 0o755
		}
		return os.WriteFile(out, []byte(c), mode)
	})
}

// dirTree stores the files under dir as blobs and trees; zero hash when
// there is nothing.
func dirTree(s storage.Storer, dir string) (plumbing.Hash, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	var t object.Tree
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			h, err := dirTree(s, p)
			if err != nil {
				return h, err
			}
			if !h.IsZero() {
				t.Entries = append(t.Entries, object.TreeEntry{Name: e.Name(), Mode: filemode.Dir, Hash: h})
			}
		case e.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			o := s.NewEncodedObject()
			o.SetType(plumbing.BlobObject)
			w, _ := o.Writer()
			w.Write(data)
			w.Close()
			h, err := s.SetEncodedObject(o)
			if err != nil {
				return h, err
			}
			info, _ := e.Info()
			m := filemode.Regular
			if info.Mode()&0o111 != 0 {
				m = filemode.Executable
			}
			t.Entries = append(t.Entries, object.TreeEntry{Name: e.Name(), Mode: m, Hash: h})
		}
	}
	if len(t.Entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	return storeTree(s, t.Entries)
}

func storeTree(s storage.Storer, es []object.TreeEntry) (plumbing.Hash, error) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(es, func(i, j int) bool { return key(es[i]) < key(es[j]) })
	t := object.Tree{Entries: es}
	o := s.NewEncodedObject()
	if err := t.Encode(o); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(o)
}

// splice returns base (zero: empty) with the entry at parts replaced by h
// (zero: removed).
func splice(s storage.Storer, base plumbing.Hash, parts []string, h plumbing.Hash) (plumbing.Hash, error) {
	var es []object.TreeEntry
	if !base.IsZero() {
		t, err := object.GetTree(s, base)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		es = append(es, t.Entries...)
	}
	i := 0
	for ; i < len(es) && es[i].Name != parts[0]; i++ {
	}
	sub := h
	if len(parts) > 1 {
		var old plumbing.Hash
		if i < len(es) && es[i].Mode == filemode.Dir {
			old = es[i].Hash
		}
		var err error
		if sub, err = splice(s, old, parts[1:], h); err != nil {
			return sub, err
		}
	}
	if i < len(es) {
		es = append(es[:i], es[i+1:]...)
	}
	if !sub.IsZero() {
		es = append(es, object.TreeEntry{Name: parts[0], Mode: filemode.Dir, Hash: sub})
	}
	if len(es) == 0 {
		return plumbing.ZeroHash, nil
	}
	return storeTree(s, es)
}

// treeCommit makes the commit of dir's files under Paths on base, as a
// new root tree with those subtrees replaced; git.ErrEmptyCommit when the
// tree does not change. Only regular and executable files are committed:
// what gitship writes.
func (a *applier) treeCommit(repo *git.Repository, base plumbing.Hash, dir string) (*object.Commit, error) {
	bc, err := repo.CommitObject(base)
	if err != nil {
		return nil, err
	}
	root := bc.TreeHash
	for _, p := range a.u.Paths {
		h, err := dirTree(repo.Storer, filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		if root, err = splice(repo.Storer, root, strings.Split(path.Clean(p), "/"), h); err != nil {
			return nil, err
		}
	}
	if root == bc.TreeHash {
		return nil, git.ErrEmptyCommit
	}
	sig := object.Signature{Name: a.u.Author.Name, Email: a.u.Author.Email, When: time.Now()}
	c := &object.Commit{Author: sig, Committer: sig, Message: a.u.Message, TreeHash: root, ParentHashes: []plumbing.Hash{base}}
	if a.sign.pgp != nil || a.sign.ssh != nil {
		unsigned := &plumbing.MemoryObject{}
		if err := c.EncodeWithoutSignature(unsigned); err != nil {
			return nil, err
		}
		r, _ := unsigned.Reader()
		var sigBytes []byte
		if a.sign.ssh != nil {
			sigBytes, err = a.sign.ssh.Sign(r)
		} else {
			var b bytes.Buffer
			err = openpgp.ArmoredDetachSign(&b, a.sign.pgp, r, nil)
			sigBytes = b.Bytes()
		}
		if err != nil {
			return nil, fmt.Errorf("sign the commit: %w", err)
		}
		c.PGPSignature = string(sigBytes)
	}
	o := repo.Storer.NewEncodedObject()
	if err := c.Encode(o); err != nil {
		return nil, err
	}
	h, err := repo.Storer.SetEncodedObject(o)
	if err != nil {
		return nil, err
	}
	head, err := repo.Head()
	if err != nil {
		return nil, err
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(head.Name(), h)); err != nil {
		return nil, err
	}
	return repo.CommitObject(h)
}
