package engine

import (
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
)

// FuzzIgnoreFile feeds arbitrary bytes to the reading of a .dockerignore:
// it must not panic, a refusal names its line, and what it accepts the
// engine accepts too, in New and in matching (where a bad pattern first
// shows after the whole context was sent).
func FuzzIgnoreFile(f *testing.F) {
	for _, s := range []string{
		"\xef\xbb\xbf# comment\n*.log\n!keep.log\n/abs\n\n",
		"**/node_modules\n.git\n!.git/HEAD\r\n",
		"[\n", "!\n", "a/[z-a]\n", "b\x00c\n", "caf\xe9\n", "docs/**/*.md\n!docs/README.md\n",
	} {
		f.Add([]byte(s))
	}
	paths := []string{"a", "keep.log", "docs/x/y.md", ".git/HEAD", "node_modules/m/index.js"}
	f.Fuzz(func(t *testing.T, data []byte) {
		patterns, ierr := ignorePatterns(data)
		if ierr != nil {
			if ierr.Line < 0 || ierr.Line > strings.Count(string(data), "\n")+1 || ierr.Err == nil {
				t.Fatalf("ignorePatterns() = %#v: line out of the file", ierr)
			}
			return
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			t.Fatalf("accepted %q, but patternmatcher.New(%q) = %v", data, patterns, err)
		}
		for _, p := range paths {
			if _, err := pm.MatchesOrParentMatches(p); err != nil {
				t.Fatalf("accepted %q, but matching %s = %v", data, p, err)
			}
			// As writeTar matches: each path with its parents' results.
			parent := patternmatcher.MatchInfo{}
			for i := range p {
				if p[i] == '/' {
					if _, parent, err = pm.MatchesUsingParentResults(p[:i], parent); err != nil {
						t.Fatalf("accepted %q, but matching %s = %v", data, p[:i], err)
					}
				}
			}
			if _, _, err := pm.MatchesUsingParentResults(p, parent); err != nil {
				t.Fatalf("accepted %q, but matching %s = %v", data, p, err)
			}
		}
	})
}
