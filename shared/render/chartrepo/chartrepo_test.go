package chartrepo

import (
	"strings"
	"testing"
)

// find picks a version as helm's IndexFile.Get does once the index is
// sorted: the exact string first, then the newest the constraint allows,
// prereleases only when the constraint names one, entries without a URL
// or with no semver version skipped; a pinned (Chart.lock) version only
// exactly.
func TestRepoIndexFind(t *testing.T) {
	entry := func(v string) indexEntry {
		return indexEntry{Name: "lib", Version: v, URLs: []string{"lib-" + v + ".tgz"}}
	}
	idx := &repoIndex{APIVersion: "v1", Entries: map[string][]indexEntry{"lib": {
		// Newest first, as index sorts them.
		entry("2.0.0"), entry("1.4.0-rc.1"), {Name: "lib", Version: "1.3.5"}, entry("1.3.0"), entry("1.2.3"), entry("latest"),
	}}}
	tests := []struct {
		constraint string
		exact      bool
		want       string // version, or part of the error
	}{
		{"1.x.x", false, "1.3.0"}, // 1.3.5 has no URL, 1.4.0-rc.1 is a prerelease
		{"^1.4.0-0", false, "1.4.0-rc.1"},
		{"~1.2", false, "1.2.3"},
		{"*", false, "2.0.0"},
		{"latest", false, "latest"}, // the exact string, though not semver
		{"1.2.3", true, "1.2.3"},
		{"1.2.4", true, "no version 1.2.4 (Chart.lock pins it; it has 2.0.0, 1.4.0-rc.1, 1.3.5, 1.3.0, 1.2.3, latest)"},
		{"3.x", false, "no version in the repository's index.yaml satisfies 3.x"},
		{"not a constraint", false, `version constraint "not a constraint"`},
	}
	for _, tt := range tests {
		e, err := idx.find("lib", tt.constraint, tt.exact)
		switch {
		case err != nil && !strings.Contains(err.Error(), tt.want):
			t.Errorf("find(%q, exact %v): %v, want %s", tt.constraint, tt.exact, err, tt.want)
		case err == nil && e.Version != tt.want:
			t.Errorf("find(%q, exact %v) = %s, want %s", tt.constraint, tt.exact, e.Version, tt.want)
		}
	}
	if _, err := idx.find("other", "*", false); err == nil || !strings.Contains(err.Error(), "has no chart other") {
		t.Errorf("find(other) = %v, want no chart other", err)
	}
}
