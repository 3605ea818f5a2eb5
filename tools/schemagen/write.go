package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The files shared/schema embeds (keep the two in step):
//
//   - v1.NN.json.gz, one a minor release: its version, its kinds and the
//     content hash of each definition they need, by name;
//   - definitions.json.gz, the store: each distinct definition of every
//     release once, under its content hash. Most definitions are the same
//     from release to release, so nine releases cost little more than one.
//
// Each run writes its release's index and rewrites the store: the entries
// the indexes in the directory refer to, no others, so removing a release's
// index and generating another drops what only it used.
const storeName = "definitions.json.gz"

// index is a release's v1.NN.json.gz; version comes first, so shared/schema
// can list the releases without reading the rest.
type index struct {
	Version     string            `json:"version"`
	Kinds       []kind            `json:"kinds"`
	Definitions map[string]string `json:"definitions"` // model name → content hash
}

// hashLen is how many hex digits of a definition's SHA-256 name it: 48
// bits, where the store holds a few thousand (the hashes are most of what an
// index costs once compressed). A collision is caught when the store is
// written (two contents, one hash), not silently merged.
const hashLen = 12

// canonical is the bytes a definition is stored as and hashed over:
// compact JSON, keys sorted (encoding/json sorts map keys), no HTML escaping,
// numbers as written (clean decodes with UseNumber).
func canonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:hashLen]
}

// write stores c as dir/v1.NN.json.gz and merges its definitions into
// dir/definitions.json.gz. The output depends on the inputs alone:
// encoding/json sorts map keys, the store is written in a fixed order and
// the gzip header carries no name or time. It returns the index's path and
// the sizes of the two files.
func write(dir string, c *catalog) (path string, indexSize, storeSize int, err error) {
	idx := index{Version: c.Version, Kinds: c.Kinds, Definitions: make(map[string]string, len(c.Definitions))}
	fresh := map[string][]byte{}
	for name, d := range c.Definitions {
		b, err := canonical(d)
		if err != nil {
			return "", 0, 0, fmt.Errorf("definition %s: %w", name, err)
		}
		h := contentHash(b)
		if old, ok := fresh[h]; ok && !bytes.Equal(old, b) {
			return "", 0, 0, fmt.Errorf("definition %s: hash %s names two contents: raise hashLen", name, h)
		}
		fresh[h] = b
		idx.Definitions[name] = h
	}
	minor := strings.Join(strings.SplitN(c.Version, ".", 3)[:2], ".")
	path = filepath.Join(dir, "v"+minor+".json.gz")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(idx); err != nil {
		return "", 0, 0, fmt.Errorf("encode %s: %w", path, err)
	}
	// The store first: an index is never left naming what no store holds.
	if storeSize, err = writeStore(dir, path, &idx, fresh); err != nil {
		return "", 0, 0, err
	}
	if indexSize, err = writeGzip(path, buf.Bytes()); err != nil {
		return "", 0, 0, err
	}
	return path, indexSize, storeSize, nil
}

// writeStore rewrites dir's store with the definitions self, the index about
// to be written at selfPath, and every other index in dir refer to, taken
// from fresh (this run's) or else from the store as it was.
// Entries are ordered by the first model name that refers to them, so the
// versions of one definition sit side by side, where gzip finds what they
// share.
func writeStore(dir, selfPath string, self *index, fresh map[string][]byte) (int, error) {
	path := filepath.Join(dir, storeName)
	old, err := readStore(path)
	if err != nil {
		return 0, err
	}
	indexes, err := filepath.Glob(filepath.Join(dir, "v*.json.gz"))
	if err != nil {
		return 0, err
	}
	for h, b := range fresh {
		if o, ok := old[h]; ok && !bytes.Equal(o, b) {
			return 0, fmt.Errorf("%s: hash %s names two contents: raise hashLen", path, h)
		}
	}
	first := map[string]string{} // hash → the least model name referring to it
	for _, f := range append(indexes, selfPath) {
		idx := self
		if f != selfPath {
			if filepath.Base(f) == filepath.Base(selfPath) {
				continue // replaced by self
			}
			if idx, err = readIndex(f); err != nil {
				return 0, err
			}
		}
		for name, h := range idx.Definitions {
			if _, ok := fresh[h]; !ok {
				if _, ok := old[h]; !ok {
					return 0, fmt.Errorf("%s: definition %s (%s) is in no store: generate that release again", f, name, h)
				}
			}
			if n, ok := first[h]; !ok || name < n {
				first[h] = name
			}
		}
	}
	hashes := make([]string, 0, len(first))
	for h := range first {
		hashes = append(hashes, h)
	}
	sort.Slice(hashes, func(i, j int) bool {
		a, b := hashes[i], hashes[j]
		if first[a] != first[b] {
			return first[a] < first[b]
		}
		return a < b
	})
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, h := range hashes {
		b, ok := fresh[h]
		if !ok {
			b = old[h]
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "\n%q:", h)
		buf.Write(b)
	}
	buf.WriteString("\n}\n")
	return writeGzip(path, buf.Bytes())
}

// readStore reads a store; a missing one is empty. Each entry is checked
// against its hash, so a hand-edited store is not carried forward.
func readStore(path string) (map[string][]byte, error) {
	raw, err := readGzip(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string][]byte, len(m))
	for h, b := range m {
		if contentHash(b) != h {
			return nil, fmt.Errorf("%s: entry %s does not hash to its name", path, h)
		}
		out[h] = b
	}
	return out, nil
}

func readIndex(path string) (*index, error) {
	raw, err := readGzip(path)
	if err != nil {
		return nil, err
	}
	var idx index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &idx, nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// writeGzip writes b gzipped at the best compression, with no name or time
// in the header.
func writeGzip(path string, b []byte) (int, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	if _, err := zw.Write(b); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}
