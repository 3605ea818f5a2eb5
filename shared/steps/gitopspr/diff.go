package gitopspr

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Change is what a render did to the managed path: the resource files
// added, changed and removed, and their unified diff.
type Change struct {
	Added, Changed, Removed []string // file names relative to the managed path
	Diff                    string   // unified diff, a/ and b/ paths relative to the repository
}

// Empty says nothing changed.
func (c Change) Empty() bool { return len(c.Added)+len(c.Changed)+len(c.Removed) == 0 }

// Summary is "2 added, 1 changed, 0 removed".
func (c Change) Summary() string {
	return fmt.Sprintf("%d added, %d changed, %d removed", len(c.Added), len(c.Changed), len(c.Removed))
}

// readTree reads the files under dir (relative names, forward slashes);
// a missing dir is empty. The marker and the copied sources are not
// resources and are left out.
func readTree(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == sourceDir {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == markerName {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = string(data)
		return nil
	})
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	return files, err
}

// diffTrees compares the managed path before and after; prefix is its
// path in the repository.
func diffTrees(before, after map[string]string, prefix string) Change {
	var c Change
	names := map[string]bool{}
	for n := range before {
		names[n] = true
	}
	for n := range after {
		names[n] = true
	}
	var diff strings.Builder
	for _, n := range slices.Sorted(func(yield func(string) bool) {
		for n := range names {
			if !yield(n) {
				return
			}
		}
	}) {
		old, hadOld := before[n]
		cur, hasNew := after[n]
		switch {
		case !hadOld:
			c.Added = append(c.Added, n)
		case !hasNew:
			c.Removed = append(c.Removed, n)
		case old != cur:
			c.Changed = append(c.Changed, n)
		default:
			continue
		}
		path := prefix + "/" + n
		from, to := "a/"+path, "b/"+path
		if !hadOld {
			from = "/dev/null"
		}
		if !hasNew {
			to = "/dev/null"
		}
		text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(old), B: difflib.SplitLines(cur), FromFile: from, ToFile: to, Context: 3,
		})
		diff.WriteString(text)
	}
	c.Diff = diff.String()
	return c
}
