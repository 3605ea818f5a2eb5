package lint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/patternmatcher"

	"github.com/gitship/gitship/shared/step"
)

// file is a file or directory to lint: where it is, and its
// repository-relative name used in findings.
type file struct {
	abs, rel string
}

// targets is what discovery found.
type targets struct {
	dockerfiles []file
	charts      []file
	yaml        []file
}

// skipDirs are never searched: other people's code, or gitship's own.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true, ".gitship": true}

// discover walks the paths. A path that is a file is linted as what its name
// says, whether or not discovery would have picked it.
func discover(root string, paths, exclude []string) (targets, error) {
	var t targets
	var excl *patternmatcher.PatternMatcher
	if len(exclude) > 0 {
		pm, err := patternmatcher.New(exclude)
		if err != nil {
			return t, step.Usagef("--exclude: %v", err)
		}
		excl = pm
	}
	excluded := func(rel string) bool {
		if excl == nil {
			return false
		}
		ok, _ := excl.MatchesOrParentMatches(rel)
		return ok
	}
	seen := map[string]bool{}
	add := func(list *[]file, f file) {
		if !seen[f.abs] {
			seen[f.abs] = true
			*list = append(*list, f)
		}
	}

	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return t, step.Usagef("--path %q: %v", p, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return t, step.Usagef("--path %q: %v", p, errors.Unwrap(err))
		}
		if !info.IsDir() {
			f := file{abs: abs, rel: relTo(root, abs)}
			switch {
			case isDockerfile(info.Name()):
				add(&t.dockerfiles, f)
			case info.Name() == "Chart.yaml":
				add(&t.charts, file{abs: filepath.Dir(abs), rel: relTo(root, filepath.Dir(abs))})
			case isYAML(info.Name()):
				add(&t.yaml, f)
			default:
				return t, step.Usagef("--path %q: not a Dockerfile, Chart.yaml or YAML file", p)
			}
			continue
		}
		var chartDirs []string
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("search %s: %w", relTo(root, path), err)
			}
			rel := relTo(root, path)
			if d.IsDir() {
				if path != abs && (skipDirs[d.Name()] || excluded(rel)) {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "Chart.yaml")); err == nil {
					// A subchart is linted with its parent.
					if !slices.ContainsFunc(chartDirs, func(c string) bool { return within(c, path) }) {
						add(&t.charts, file{abs: path, rel: rel})
					}
					chartDirs = append(chartDirs, path)
				}
				return nil
			}
			if excluded(rel) {
				return nil
			}
			switch {
			case isDockerfile(d.Name()):
				add(&t.dockerfiles, file{abs: path, rel: rel})
			case isYAML(d.Name()) && !inChartTemplates(chartDirs, path):
				add(&t.yaml, file{abs: path, rel: rel})
			}
			return nil
		})
		if err != nil {
			return t, err
		}
	}
	return t, nil
}

// inChartTemplates: chart templates are Go templates, not YAML, until
// rendered; helm lint checks them instead.
func inChartTemplates(chartDirs []string, path string) bool {
	for _, c := range chartDirs {
		if within(filepath.Join(c, "templates"), path) {
			return true
		}
	}
	return false
}

func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// isDockerfile knows the names docker build and podman build read:
// Dockerfile and Containerfile, alone, with a suffix (Dockerfile.test,
// Containerfile.prod) or as an extension (api.Dockerfile, api.Containerfile).
func isDockerfile(name string) bool {
	lower := strings.ToLower(name)
	for _, base := range []string{"dockerfile", "containerfile"} {
		if lower == base || strings.HasPrefix(lower, base+".") || strings.HasSuffix(lower, "."+base) {
			return true
		}
	}
	return false
}

func isYAML(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// relTo names path relative to the repository root with forward slashes,
// as CI annotations and SARIF want; a path outside the root keeps its
// absolute form.
func relTo(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}
