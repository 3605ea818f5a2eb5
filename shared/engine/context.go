package engine

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	if fi, err := os.Stat(absDir); err != nil {
		return nil, fmt.Errorf("build context %q: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("build context %q: not a directory", dir)
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
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		patterns, err := ignorefile.ReadAll(f)
		if err != nil {
			return "", nil, fmt.Errorf("read %s: %w", p, err)
		}
		return p, patterns, nil
	}
	return "", nil, nil
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
