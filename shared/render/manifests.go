package render

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadManifests reads plain manifests: files, directories (recursively,
// their *.yaml, *.yml and *.json files, skipping hidden files and directories) and
// globs (their matches but hidden ones, as in a shell; files filtered like
// a directory's). "-" reads stdin. Each file is a stream of its own; a file named twice is read once.
// A path or glob that matches no manifest is an input error.
//
// A document whose apiVersion, kind and name read plainly is not parsed
// further here: a syntax error in its body is left to the validator, which
// parses it anyway (and reports it with its line). Everything else gets
// Split's full checks.
func ReadManifests(paths []string, stdin io.Reader) ([]Resource, error) {
	return readManifests(paths, stdin, false)
}

// readManifests is ReadManifests; keep is Sources.KeepUnreadable.
func readManifests(paths []string, stdin io.Reader, keep bool) ([]Resource, error) {
	var files []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	for _, p := range paths {
		found, err := expand(p)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			add(f)
		}
	}

	// Files are read and split in parallel (a tree of thousands of small
	// manifests is otherwise bound by one core), then joined in order.
	return inOrder(files, func(f string) ([]Resource, error) { return readOne(f, stdin, keep) })
}

func readOne(f string, stdin io.Reader, keep bool) ([]Resource, error) {
	var data []byte
	var err error
	stream := "manifests " + f
	if f == "-" {
		f, stream = "stdin", "stdin"
		data, err = readStdin(stdin)
	} else {
		data, err = readFile(f)
	}
	if err != nil {
		return nil, err
	}
	return split(stream, f, data, true, keep)
}

// expand turns one argument into the files it names, slash-separated.
func expand(p string) ([]string, error) {
	if p == "-" {
		return []string{"-"}, nil
	}
	var matches []string
	explicit := !strings.ContainsAny(p, "*?[")
	if explicit {
		matches = []string{p}
	} else {
		var err error
		if matches, err = filepath.Glob(p); err != nil {
			return nil, asInput(fmt.Errorf("glob %q: %w", p, err))
		}
	}
	var files []string
	for _, m := range matches {
		if !explicit && hidden(m) && !hidden(p) {
			continue // as a shell's glob
		}
		fi, err := os.Stat(m)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, asInput(fmt.Errorf("manifest %q does not exist", m))
		case err != nil:
			return nil, asInput(fmt.Errorf("manifest %q: %w", m, err))
		case fi.IsDir():
			found, err := walk(m)
			if err != nil {
				return nil, err
			}
			files = append(files, found...)
		case explicit || isManifest(m):
			files = append(files, filepath.ToSlash(filepath.Clean(m)))
		}
	}
	if len(files) == 0 {
		return nil, asInput(fmt.Errorf("%q matches no manifest (*.yaml, *.yml, *.json)", p))
	}
	return files, nil
}

func walk(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p != dir && hidden(p):
			return filepath.SkipDir // .git and the like
		case !d.IsDir() && isManifest(p) && !hidden(p): // not .gitlab-ci.yml
			files = append(files, filepath.ToSlash(filepath.Clean(p)))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read directory %q: %w", dir, err)
	}
	return files, nil
}

func hidden(name string) bool {
	return strings.HasPrefix(filepath.Base(name), ".") && filepath.Base(name) != "." && filepath.Base(name) != ".."
}

func isManifest(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// readFile reads a manifest: one open, then the directory and size checks
// on the open file and a buffer sized from them, as os.ReadFile sizes it.
// On a tree of thousands of small files this saves a stat each and the
// reads of io.ReadAll growing from 512 bytes.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, asInput(fmt.Errorf("manifest %q does not exist", name))
	} else if err != nil {
		return nil, fmt.Errorf("read manifest %q: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, asInput(fmt.Errorf("manifest %q: %w", name, err))
	}
	if err := checkInfo("manifest", name, fi); err != nil {
		return nil, err
	}
	// The size checked may have grown since: read to the end, capped.
	return readSized(f, "manifest "+strconv.Quote(name), fi.Size())
}

// readSized reads r to its end into a buffer of size bytes and one more
// (to see the end in the first read), growing it when r holds more, up to
// MaxFileSize.
func readSized(r io.Reader, name string, size int64) ([]byte, error) {
	data := make([]byte, 0, max(min(size, MaxFileSize)+1, 512))
	for {
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if len(data) > MaxFileSize {
			return nil, asInput(fmt.Errorf("%s is larger than the %d MiB limit", name, MaxFileSize>>20))
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // room to read on
		}
	}
}

func readStdin(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, asInput(errors.New(`"-" given but there is no stdin`))
	}
	return readCapped(r, "stdin")
}

func readCapped(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, asInput(fmt.Errorf("%s is larger than the %d MiB limit", name, MaxFileSize>>20))
	}
	return data, nil
}
