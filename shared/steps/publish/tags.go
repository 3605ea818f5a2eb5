package publish

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/registry"
)

// Tags are the tags an image of commit c gets: the full SHA and the short
// SHA (immutable); the branch, or pr-N in a pull request (moving); for a
// git tag v1.2.3 the release 1.2.3 (immutable) and 1.2 and 1 (moving,
// not for a pre-release); latest when asked; then extra (moving).
func Tags(c ci.Context, extra []string, latest bool) ([]registry.Tag, error) {
	if c.SHA == "" {
		return nil, fmt.Errorf("no commit SHA to tag with: run in a git checkout, or in CI where the platform names the commit")
	}
	var tags []registry.Tag
	seen := map[string]bool{}
	add := func(name string, immutable bool) {
		if name != "" && !seen[name] {
			seen[name] = true
			tags = append(tags, registry.Tag{Name: name, Immutable: immutable})
		}
	}
	add(c.SHA, true)
	add(c.ShortSHA, true)
	switch {
	case c.PullRequest != "":
		add(sanitize("pr-"+c.PullRequest), false) // 128 characters with the prefix (FuzzTags)
	case c.Branch != "":
		add(sanitize(c.Branch), false)
	}
	if c.Tag != "" {
		if v, err := semver.StrictNewVersion(strings.TrimPrefix(c.Tag, "v")); err == nil {
			// A tag has no '+': build metadata joins with '_', as Helm
			// does for charts in OCI registries (FuzzTags found it).
			add(strings.ReplaceAll(v.String(), "+", "_"), true)
			if v.Prerelease() == "" && v.Metadata() == "" {
				add(fmt.Sprintf("%d.%d", v.Major(), v.Minor()), false)
				add(fmt.Sprintf("%d", v.Major()), false)
			}
		} else {
			add(sanitize(c.Tag), true)
		}
	}
	if latest {
		add("latest", false)
	}
	for _, t := range extra {
		if !validTag.MatchString(t) {
			return nil, fmt.Errorf("--tag %q: a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", t)
		}
		add(t, false)
	}
	return tags, nil
}

var (
	validTag     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	notTagChars  = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
	badTagStarts = ".-"
)

// sanitize makes a branch name a tag: feature/login-form is
// feature-login-form.
func sanitize(s string) string {
	s = strings.TrimLeft(notTagChars.ReplaceAllString(s, "-"), badTagStarts)
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}
