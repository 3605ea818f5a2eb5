package engine

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// outsideDockerfile is the name a Dockerfile that lives outside the build
// context gets inside the context archive; the docker CLI does the same
// with a random name.
const outsideDockerfile = ".dockerfile.gitship"

// buildContext is what Build sends: a directory, minus what its ignore file
// excludes, plus the Dockerfile.
type buildContext struct {
	dir        string   // absolute context directory
	dockerfile string   // absolute path of the Dockerfile
	display    string   // the Dockerfile's path as given, for messages
	name       string   // the Dockerfile's name in the archive
	excludes   []string // patterns from the ignore file
}

// newBuildContext resolves the paths of a build the way docker build does:
// the Dockerfile defaults to DIR/Dockerfile, a relative one is taken from
// the working directory, and one outside DIR is sent all the same.
func newBuildContext(dir, dockerfile string) (*buildContext, error) {
	if dir == "" {
		dir = "."
	}
	if dockerfile == "" {
		dockerfile = filepath.Join(dir, "Dockerfile")
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(absDir); errors.Is(err, fs.ErrNotExist) {
		return nil, contextError{fmt.Errorf("build context %q: %w", dir, err)}
	} else if err != nil {
		return nil, fmt.Errorf("build context %q: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, contextError{fmt.Errorf("build context %q: not a directory", dir)}
	}
	absFile, err := filepath.Abs(dockerfile)
	if err != nil {
		return nil, err
	}
	bc := &buildContext{dir: absDir, dockerfile: absFile, display: dockerfile, name: outsideDockerfile}
	if rel, ok := inside(absDir, absFile); ok {
		bc.name = rel
	}
	ignoreFile, excludes, err := readIgnoreFile(absDir, absFile)
	if err != nil {
		return nil, err
	}
	bc.excludes = excludes
	// The Dockerfile and the ignore file are sent even when the ignore
	// file excludes them, as the docker CLI does: the builder reads both.
	keep := []string{bc.name}
	if rel, ok := inside(absDir, ignoreFile); ok && ignoreFile != "" {
		keep = append(keep, rel)
	}
	for _, k := range keep {
		if ok, _ := patternmatcher.MatchesOrParentMatches(k, bc.excludes); ok {
			bc.excludes = append(bc.excludes, "!"+k)
		}
	}
	return bc, nil
}

// ErrBadContext is wrapped by errors about a build context that cannot be
// sent as given: a directory that is not there (or is a file), an ignore
// file that is not a list of patterns (an *IgnoreFileError).
var ErrBadContext = errors.New("bad build context")

// contextError keeps err's message and adds ErrBadContext to its chain.
type contextError struct{ err error }

func (e contextError) Error() string   { return e.err.Error() }
func (e contextError) Unwrap() []error { return []error{ErrBadContext, e.err} }

// IgnoreFileError is a .dockerignore that is not a list of patterns: a
// binary file (NUL bytes, invalid UTF-8), a line too long to read, or a
// pattern moby/patternmatcher refuses ("[", "!"), which the engine would
// refuse after the whole context was sent.
type IgnoreFileError struct {
	File string // the path, relative to the working directory when inside it
	Line int    // 1-based; 0 when about the whole file
	Err  error
}

func (e *IgnoreFileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap makes errors.Is(err, ErrBadContext) hold, and keeps the cause.
func (e *IgnoreFileError) Unwrap() []error { return []error{ErrBadContext, e.Err} }

// inside returns the slash-separated path of file relative to dir, and
// whether file is under dir at all.
func inside(dir, file string) (string, bool) {
	rel, err := filepath.Rel(dir, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// readIgnoreFile reads the patterns of <Dockerfile>.dockerignore next to the
// Dockerfile when there is one (BuildKit's rule, which people who build
// with docker today rely on), else DIR/.dockerignore. It returns the
// file's path, "" when there is none.
func readIgnoreFile(dir, dockerfile string) (string, []string, error) {
	for _, p := range []string{dockerfile + ".dockerignore", filepath.Join(dir, ".dockerignore")} {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		patterns, ierr := ignorePatterns(data)
		if ierr != nil {
			ierr.File = shown(p)
			return "", nil, ierr
		}
		return p, patterns, nil
	}
	return "", nil, nil
}

// ignorePatterns reads an ignore file as the docker CLI does
// (ignorefile.ReadAll), line by line so that a refusal names its line, and
// checks each pattern as the engine will when it matches with it.
func ignorePatterns(data []byte) ([]string, *IgnoreFileError) {
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		n := i + 1
		switch {
		case bytes.IndexByte(line, 0) >= 0:
			return nil, &IgnoreFileError{Line: n, Err: errors.New("NUL byte: a binary file, not a list of patterns")}
		case !utf8.Valid(line):
			return nil, &IgnoreFileError{Line: n, Err: errors.New("invalid UTF-8: a binary file, not a list of patterns")}
		}
		ps, err := ignorefile.ReadAll(bytes.NewReader(line))
		if err != nil {
			return nil, &IgnoreFileError{Line: n, Err: err}
		}
		for _, p := range ps {
			if err := checkPattern(p); err != nil {
				return nil, &IgnoreFileError{Line: n, Err: fmt.Errorf("pattern %q: %w", p, err)}
			}
		}
	}
	// The patterns themselves as the docker CLI reads them: a BOM counts
	// on the first line only.
	out, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return nil, &IgnoreFileError{Err: err}
	}
	return out, nil
}

// checkPattern fails on a pattern patternmatcher refuses: when it is read
// (New: "!" alone, what filepath.Match calls malformed) or when it is first
// matched against (its regular expression does not compile).
func checkPattern(p string) error {
	if _, err := patternmatcher.New([]string{p}); err != nil {
		return err
	}
	// Matching compiles the pattern; an exclusion is only matched once
	// something matched before it, so try the pattern as an inclusion.
	pm, err := patternmatcher.New([]string{strings.TrimPrefix(p, "!")})
	if err != nil {
		return err
	}
	_, err = pm.MatchesOrParentMatches("gitship")
	return err
}

// shown is path as messages show it: relative to the working directory
// when it is inside it.
func shown(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, ok := inside(wd, path); ok {
		return rel
	}
	return path
}

// writeTar writes the context as an uncompressed tar, owned by root, the
// way the docker CLI sends it.
func (bc *buildContext) writeTar(w io.Writer) error {
	pm, err := patternmatcher.New(bc.excludes)
	if err != nil {
		return fmt.Errorf("ignore patterns: %w", err)
	}
	tw := tar.NewWriter(w)
	// parents holds the match results of the directories above the
	// current path, so each path is matched once (patternmatcher's
	// MatchesUsingParentResults).
	parents := map[string]patternmatcher.MatchInfo{}
	err = filepath.WalkDir(bc.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(bc.dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if bc.name == outsideDockerfile && rel == outsideDockerfile {
			return nil // the real Dockerfile goes under this name
		}
		parentDir, _ := filepath.Split(rel)
		skip, info, err := pm.MatchesUsingParentResults(rel, parents[strings.TrimSuffix(parentDir, "/")])
		if err != nil {
			return err
		}
		if d.IsDir() {
			parents[rel] = info
		}
		if skip {
			if d.IsDir() && !mayReinclude(pm, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		return addFile(tw, p, rel, d)
	})
	if err != nil {
		return fmt.Errorf("build context %s: %w", bc.dir, err)
	}
	if bc.name == outsideDockerfile {
		fi, err := os.Stat(bc.dockerfile)
		if err != nil {
			return err
		}
		if err := addFile(tw, bc.dockerfile, outsideDockerfile, fs.FileInfoToDirEntry(fi)); err != nil {
			return err
		}
	}
	return tw.Close()
}

// mayReinclude tells whether an exclusion pattern ("!dir/keep") could bring
// back something under an excluded directory, in which case it is walked.
func mayReinclude(pm *patternmatcher.PatternMatcher, dir string) bool {
	if !pm.Exclusions() {
		return false
	}
	for _, pat := range pm.Patterns() {
		if pat.Exclusion() && strings.HasPrefix(pat.String()+"/", dir+"/") {
			return true
		}
	}
	return false
}

// addFile writes one entry. Sockets, devices and pipes have no place in a
// build context and are left out.
func addFile(tw *tar.Writer, path, name string, d fs.DirEntry) error {
	fi, err := d.Info()
	if err != nil {
		return err
	}
	var link string
	switch mode := fi.Mode(); {
	case mode.IsDir():
		name += "/"
	case mode&fs.ModeSymlink != 0:
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	case !mode.IsRegular():
		return nil
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// A file that grows while it is sent would corrupt the archive.
	if _, err := io.Copy(tw, io.LimitReader(f, hdr.Size)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
