package gitdir

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Hash is an object's SHA-1.
type Hash [20]byte

// ParseHash reads a hash as go-git's plumbing.NewHash does: the hex digits
// it can decode, zero-padded or cut to 20 bytes.
func ParseHash(s string) Hash {
	b, _ := hex.DecodeString(s)
	var h Hash
	copy(h[:], b)
	return h
}

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ref is a reference as stored: a hash, or "ref: <name>" (symbolic).
type ref struct {
	name   string
	target string // the name a symbolic ref points at; empty otherwise
	hash   Hash
}

func parseRef(name, line string) ref {
	if target, ok := strings.CutPrefix(line, "ref: "); ok {
		return ref{name: name, target: target}
	}
	return ref{name: name, hash: ParseHash(line)}
}

var errEmptyRef = errors.New("ref file is empty")

// readLoose reads the ref file at name (relative to the git directory).
func (r *Repo) readLoose(name string) (ref, error) {
	b, err := os.ReadFile(filepath.Join(r.Dir, filepath.FromSlash(name)))
	if err != nil {
		return ref{}, err
	}
	if len(b) == 0 {
		return ref{}, fmt.Errorf("%s: %w", name, errEmptyRef)
	}
	return parseRef(name, strings.TrimSpace(string(b))), nil
}

// packedRefs reads packed-refs in its order; no file is none. The peeled
// lines ("^<hash>") are skipped, as go-git does.
func (r *Repo) packedRefs() ([]ref, error) {
	f, err := os.Open(filepath.Join(r.Dir, "packed-refs"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var refs []ref
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := s.Text()
		if line == "" || line[0] == '#' || line[0] == '^' {
			continue
		}
		ws := strings.Split(line, " ")
		if len(ws) != 2 {
			return nil, fmt.Errorf("packed-refs: malformed line %q", line)
		}
		refs = append(refs, parseRef(ws[1], ws[0]))
	}
	return refs, s.Err()
}

// readRef reads one ref, loose first, then packed (a loose ref that
// cannot be read is looked for among the packed ones, as go-git does).
func (r *Repo) readRef(name string) (ref, error) {
	if !safeRefName(name) {
		return ref{}, fmt.Errorf("ref %q is not under refs/ nor HEAD", name)
	}
	if loose, err := r.readLoose(name); err == nil {
		return loose, nil
	}
	packed, err := r.packedRefs()
	if err != nil {
		return ref{}, err
	}
	for _, p := range packed {
		if p.name == name {
			return p, nil
		}
	}
	return ref{}, fmt.Errorf("ref %s: %w", name, ErrNotFound)
}

// safeRefName keeps a ref read from the repository (HEAD's target) inside
// the git directory: HEAD or under refs/, no "." or ".." part, no
// control character.
func safeRefName(name string) bool {
	if name != "HEAD" && !strings.HasPrefix(name, "refs/") {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] == 0x7f || name[i] == '\\' {
			return false
		}
	}
	for _, part := range strings.Split(name, "/") {
		if part == "." || part == ".." || part == "" {
			return false
		}
	}
	return true
}

// Head resolves HEAD: the ref name it points at ("HEAD" when detached)
// and the commit.
func (r *Repo) Head() (name string, commit Hash, err error) {
	ref, err := r.readRef("HEAD")
	for range 1024 {
		if err != nil {
			return "", Hash{}, err
		}
		if ref.target == "" {
			return ref.name, ref.hash, nil
		}
		ref, err = r.readRef(ref.target)
	}
	return "", Hash{}, errors.New("HEAD: symbolic references nest too deep")
}

// tags lists refs/tags/*, loose refs first (in the order of a walk of
// refs/ by sorted names), then packed ones not seen loose: the order of
// go-git's Repository.Tags.
func (r *Repo) tags() ([]ref, error) {
	var refs []ref
	seen := map[string]bool{}
	var walk func(rel string) error
	walk = func(rel string) error {
		entries, err := os.ReadDir(filepath.Join(r.Dir, filepath.FromSlash(rel)))
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := rel + "/" + e.Name()
			if e.IsDir() {
				if err := walk(name); err != nil {
					return err
				}
				continue
			}
			ref, err := r.readLoose(name)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return err
			}
			if !seen[name] {
				refs = append(refs, ref)
				seen[name] = true
			}
		}
		return nil
	}
	if err := walk("refs"); err != nil {
		return nil, err
	}
	packed, err := r.packedRefs()
	if err != nil {
		return nil, err
	}
	for _, p := range packed {
		if !seen[p.name] {
			refs = append(refs, p)
			seen[p.name] = true
		}
	}
	var tags []ref
	for _, ref := range refs {
		if strings.HasPrefix(ref.name, "refs/tags/") {
			tags = append(tags, ref)
		}
	}
	return tags, nil
}

// TagAt returns the name of a tag pointing at commit, lightweight or
// annotated (one level of tag object is peeled), the first in go-git's
// order; "" when none does or the refs cannot be read.
func (r *Repo) TagAt(commit Hash) string {
	tags, err := r.tags()
	if err != nil {
		return ""
	}
	for _, t := range tags {
		h := t.hash
		if target, err := r.tagTarget(h); err == nil {
			h = target
		}
		if h == commit {
			return shortName(t.name)
		}
	}
	return ""
}

// shortName is go-git's ReferenceName.Short: refs/tags/v1 is v1 (and
// fmt.Sscanf's reading of the odd name, one with white space or nothing
// after the prefix, is kept).
func shortName(name string) string {
	res := name
	for _, format := range []string{"refs/%s", "refs/tags/%s", "refs/heads/%s", "refs/remotes/%s", "refs/remotes/%s/HEAD"} {
		_, _ = fmt.Sscanf(name, format, &res)
	}
	return res
}
