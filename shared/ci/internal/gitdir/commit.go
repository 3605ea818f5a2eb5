package gitdir

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// lines splits an object's text as bufio.Reader.ReadBytes('\n') would:
// each line keeps its "\n", the last may lack it, none is empty.
func lines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return append(out, data)
		}
		out = append(out, data[:i+1])
		data = data[i+1:]
	}
	return out
}

// header splits "key value\n" (go-git's splitHeader).
func header(line []byte) (string, []byte) {
	key, value, _ := bytes.Cut(bytes.TrimRight(line, "\n"), []byte{' '})
	return string(key), value
}

func isBlank(line []byte) bool { return len(line) == 1 && line[0] == '\n' }

func isHash(b []byte) bool {
	_, err := hex.DecodeString(string(b))
	return len(b) == 40 && err == nil
}

// CommitTime returns the committer date of commit in UTC, read as go-git's
// object.Commit decoder does: the tree line first (else the commit is
// malformed), the parents, then the author and the committer at their
// places; zero when the committer line is missing or holds no time. A
// missing object, or one that is not a commit, is an error.
func (r *Repo) CommitTime(commit Hash) (time.Time, error) {
	typ, data, err := r.object(commit)
	if err != nil {
		return time.Time{}, err
	}
	if typ != typeCommit {
		return time.Time{}, fmt.Errorf("object %s is not a commit: %w", commit, ErrNotFound)
	}
	ls := lines(data)
	if len(ls) == 0 || isBlank(ls[0]) {
		return time.Time{}, fmt.Errorf("commit %s: missing tree header", commit)
	}
	if key, value := header(ls[0]); key != "tree" || !isHash(value) {
		return time.Time{}, fmt.Errorf("commit %s: tree header must be first", commit)
	}
	ls = ls[1:]
	for len(ls) > 0 && !isBlank(ls[0]) {
		key, value := header(ls[0])
		if key != "parent" {
			break
		}
		if !isHash(value) {
			return time.Time{}, fmt.Errorf("commit %s: bad parent hash", commit)
		}
		ls = ls[1:]
	}
	if len(ls) > 0 && !isBlank(ls[0]) {
		if key, _ := header(ls[0]); key == "author" {
			ls = ls[1:]
		}
	}
	if len(ls) > 0 && !isBlank(ls[0]) {
		if key, value := header(ls[0]); key == "committer" {
			return signatureTime(value), nil
		}
	}
	return time.Time{}, nil
}

// signatureTime reads the time of "Name <email> 1700000000 +0100" the way
// go-git's object.Signature.Decode does, in UTC.
func signatureTime(b []byte) time.Time {
	open := bytes.LastIndexByte(b, '<')
	close := bytes.LastIndexByte(b, '>')
	if open == -1 || close == -1 || close < open || close+2 >= len(b) {
		return time.Time{}
	}
	b = b[close+2:]
	space := bytes.IndexByte(b, ' ')
	if space == -1 {
		space = len(b)
	}
	ts, err := strconv.ParseInt(string(b[:space]), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(ts, 0).UTC()
}

var objectTypes = map[string]bool{"commit": true, "tree": true, "blob": true, "tag": true, "ofs-delta": true, "ref-delta": true}

// tagTarget returns the object an annotated tag points at, read as go-git's
// object.Tag decoder does: object, type and tag lines first and in that
// order (a tag object may end, without a line break, after any of them).
func (r *Repo) tagTarget(tag Hash) (Hash, error) {
	typ, data, err := r.object(tag)
	if err != nil {
		return Hash{}, err
	}
	if typ != typeTag {
		return Hash{}, fmt.Errorf("object %s is not a tag: %w", tag, ErrNotFound)
	}
	ls := lines(data)
	if len(ls) == 0 || isBlank(ls[0]) {
		return Hash{}, fmt.Errorf("tag %s: missing object header", tag)
	}
	key, value := header(ls[0])
	if key != "object" || !isHash(value) {
		return Hash{}, fmt.Errorf("tag %s: object header must be first", tag)
	}
	target := ParseHash(string(value))
	for i, want := range []string{"type", "tag"} {
		if len(ls) == i+1 {
			if bytes.HasSuffix(ls[i], []byte("\n")) {
				return Hash{}, fmt.Errorf("tag %s: missing %s header", tag, want)
			}
			break // the object ended without a line break
		}
		line := ls[i+1]
		k, v := header(line)
		if isBlank(line) || k != want || (want == "type" && !objectTypes[string(v)]) {
			return Hash{}, fmt.Errorf("tag %s: %s header must follow", tag, want)
		}
	}
	return target, nil
}
