package publish

import (
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/ci"
)

// FuzzTags holds the tags made from the CI context (branch, git tag, pull
// request) and --tag: no input panics, and every tag made is one a
// registry takes (validTag), once, with the commit SHA first and
// immutable. Seeds: testdata/fuzz/FuzzTags.
func FuzzTags(f *testing.F) {
	f.Add("main", "", "", "stable")
	f.Add("feature/login-form", "v1.2.3", "", "")
	f.Add("fix", "", "7", "")
	f.Add(".hidden", "v2.0.0-rc.1+build.5", "", "x")
	f.Add("::error::boom\n##vso[task.setvariable]", "release/42", "1\n2", "latest")
	f.Fuzz(func(t *testing.T, branch, gitTag, pr, extra string) {
		c := ci.Context{SHA: sha, ShortSHA: sha[:7], Branch: branch, Tag: gitTag, PullRequest: pr}
		var extras []string
		if extra != "" {
			extras = []string{extra}
		}
		tags, err := Tags(c, extras, true)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--tag ") {
				t.Errorf("Tags(%+v, %q) = %v: only --tag is refused", c, extra, err)
			}
			return
		}
		if len(tags) < 2 || tags[0].Name != sha || !tags[0].Immutable {
			t.Fatalf("Tags(%+v) = %v: want the full SHA first, immutable", c, tags)
		}
		seen := map[string]bool{}
		for _, tag := range tags {
			if !validTag.MatchString(tag.Name) || seen[tag.Name] {
				t.Errorf("Tags(%+v, %q) made %q: invalid or repeated", c, extra, tag.Name)
			}
			seen[tag.Name] = true
		}
	})
}
