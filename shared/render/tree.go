package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Marker is the file WriteTree leaves in a directory it owns. Without it,
// WriteTree refuses to replace a non-empty directory.
const Marker = ".gitship-rendered"

const markerText = "This directory is written by gitship; every run replaces all of it.\n"

// ErrNotOwned is returned (with ErrInput) when WriteTree is pointed at a
// directory that has content but no Marker: it may be someone's sources.
var ErrNotOwned = errors.New("directory is not one gitship writes")

// WriteTree writes one file per resource into dir, flat:
// <kind>-<name>.yaml, lowercased; when names collide the namespace, then the
// API group, then a number is added. Each file is a "# Source:" comment and
// the document as rendered, so the same resources give the same bytes. The
// previous content is replaced whole, and only once the new tree is
// complete: on error the old one stays. It returns the files written,
// sorted, without Marker.
func WriteTree(dir string, rs []Resource) ([]string, error) {
	exists, err := owned(dir)
	if err != nil {
		return nil, err
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("write %q: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".new-")
	if err != nil {
		return nil, fmt.Errorf("write %q: %w", dir, err)
	}
	defer os.RemoveAll(tmp) // gone already once swapped in
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("write %q: %w", dir, err)
	}

	names := fileNames(rs)
	for i, r := range rs {
		src := strings.ReplaceAll(r.Source, "\n", `\n`)
		b := make([]byte, 0, len(src)+len(r.Data)+12)
		// A document read back from a tree written here (validate
		// --render-to, then gitops-pr --manifests) names its template
		// already: keep that one.
		if !bytes.HasPrefix(r.Data, []byte("# Source: ")) {
			b = append(append(append(b, "# Source: "...), src...), '\n')
		}
		b = append(b, r.Data...)
		if len(r.Data) > 0 && r.Data[len(r.Data)-1] != '\n' {
			b = append(b, '\n')
		}
		if err := os.WriteFile(filepath.Join(tmp, names[i]), b, 0o644); err != nil {
			return nil, fmt.Errorf("write %q: %w", dir, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, Marker), []byte(markerText), 0o644); err != nil {
		return nil, fmt.Errorf("write %q: %w", dir, err)
	}
	if err := swap(tmp, dir, exists); err != nil {
		return nil, fmt.Errorf("write %q: %w", dir, err)
	}

	files := make([]string, len(names))
	for i, n := range names {
		files[i] = filepath.Join(dir, n)
	}
	slices.Sort(files)
	return files, nil
}

// CheckTree fails, as WriteTree would, when dir is one WriteTree must not
// replace, so a caller can refuse before the work whose result it writes.
func CheckTree(dir string) error {
	_, err := owned(dir)
	return err
}

// owned reports whether dir exists, and fails unless WriteTree may replace it.
func owned(dir string) (bool, error) {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("write %q: %w", dir, err)
	case !fi.IsDir():
		return false, asInput(fmt.Errorf("write %q: %w: it is not a directory", dir, ErrNotOwned))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("write %q: %w", dir, err)
	}
	if len(entries) == 0 {
		return true, nil
	}
	if m, err := os.Lstat(filepath.Join(dir, Marker)); err == nil && m.Mode().IsRegular() {
		return true, nil
	}
	return false, asInput(fmt.Errorf("write %q: %w: it is not empty and has no %s file; refusing to replace it", dir, ErrNotOwned, Marker))
}

// swap puts tmp in dir's place with two renames, moving the old tree back
// if the second fails.
func swap(tmp, dir string, exists bool) error {
	if !exists {
		return os.Rename(tmp, dir)
	}
	old, err := os.MkdirTemp(filepath.Dir(tmp), filepath.Base(tmp)+".old-")
	if err != nil {
		return err
	}
	if err := os.Remove(old); err != nil { // only its unique name is wanted
		return err
	}
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if back := os.Rename(old, dir); back != nil {
			return fmt.Errorf("%w (and restoring the previous content from %q: %v)", err, old, back)
		}
		return err
	}
	return os.RemoveAll(old)
}

// fileNames names each resource's file. Kubernetes names never contain "_",
// so the suffixes that settle collisions cannot collide with a plain name.
func fileNames(rs []Resource) []string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = clean(r.Kind)
		if r.Name != "" {
			names[i] += "-" + clean(r.Name)
		}
	}
	suffixes := []func(Resource) string{
		func(r Resource) string {
			if r.Namespace == "" {
				return ""
			}
			return "_" + clean(r.Namespace)
		},
		func(r Resource) string {
			group, _, ok := strings.Cut(r.APIVersion, "/")
			if !ok {
				group = "core"
			}
			return "_" + clean(group)
		},
	}
	var settle func(idx []int, level int)
	settle = func(idx []int, level int) {
		groups := map[string][]int{}
		var order []string
		for _, i := range idx {
			if groups[names[i]] == nil {
				order = append(order, names[i])
			}
			groups[names[i]] = append(groups[names[i]], i)
		}
		for _, n := range order {
			g := groups[n]
			if len(g) < 2 || level == len(suffixes) {
				continue
			}
			for _, i := range g {
				names[i] += suffixes[level](rs[i])
			}
			settle(g, level+1)
		}
	}
	all := make([]int, len(rs))
	for i := range all {
		all[i] = i
	}
	settle(all, 0)

	// What is still the same (the same object twice) is numbered in order.
	taken := map[string]bool{}
	for _, n := range names {
		taken[n] = true
	}
	first := map[string]bool{}
	for i, n := range names {
		if !first[n] {
			first[n] = true
			continue
		}
		for k := 2; ; k++ {
			if c := n + "_" + strconv.Itoa(k); !taken[c] {
				names[i], taken[c] = c, true
				break
			}
		}
	}
	for i := range names {
		names[i] += ".yaml"
	}
	return names
}

// clean lowercases s and keeps it to characters safe in a file name on any
// system.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '-'
	}, s)
}
