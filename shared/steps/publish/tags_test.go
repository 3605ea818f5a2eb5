package publish

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/ci"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestTags(t *testing.T) {
	for _, tt := range []struct {
		name   string
		c      ci.Context
		extra  []string
		latest bool
		want   string // name, with ! for immutable
	}{
		{"push to main", ci.Context{SHA: sha, ShortSHA: "0123456", Branch: "main"}, nil, false,
			sha + "! 0123456! main"},
		{"feature branch", ci.Context{SHA: sha, ShortSHA: "0123456", Branch: "feature/Login_form#2"}, nil, false,
			sha + "! 0123456! feature-Login_form-2"},
		{"pull request", ci.Context{SHA: sha, ShortSHA: "0123456", Branch: "fix", PullRequest: "7"}, nil, false,
			sha + "! 0123456! pr-7"},
		{"release tag", ci.Context{SHA: sha, ShortSHA: "0123456", Tag: "v1.2.3"}, nil, true,
			sha + "! 0123456! 1.2.3! 1.2 1 latest"},
		{"pre-release", ci.Context{SHA: sha, ShortSHA: "0123456", Tag: "v2.0.0-rc.1"}, nil, false,
			sha + "! 0123456! 2.0.0-rc.1!"},
		{"build metadata", ci.Context{SHA: sha, ShortSHA: "0123456", Tag: "v1.2.3+build.5"}, nil, false,
			sha + "! 0123456! 1.2.3_build.5!"},
		{"other git tag", ci.Context{SHA: sha, ShortSHA: "0123456", Tag: "release/42"}, nil, false,
			sha + "! 0123456! release-42!"},
		{"extra tags, duplicates once", ci.Context{SHA: sha, ShortSHA: "0123456", Branch: "main"}, []string{"stable", "main"}, false,
			sha + "! 0123456! main stable"},
		{"branch starting with a dot", ci.Context{SHA: sha, ShortSHA: "0123456", Branch: ".hidden"}, nil, false,
			sha + "! 0123456! hidden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tags, err := Tags(tt.c, tt.extra, tt.latest)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tag := range tags {
				s := tag.Name
				if tag.Immutable {
					s += "!"
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("Tags = %s\nwant   %s", strings.Join(got, " "), tt.want)
			}
		})
	}
}

func TestTagsErrors(t *testing.T) {
	if _, err := Tags(ci.Context{}, nil, false); err == nil || !strings.Contains(err.Error(), "no commit SHA") {
		t.Errorf("no SHA: %v", err)
	}
	for _, bad := range []string{"-x", "a b", "x:y", strings.Repeat("a", 129)} {
		if _, err := Tags(ci.Context{SHA: sha}, []string{bad}, false); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("--tag %q", bad)) {
			t.Errorf("--tag %q: %v", bad, err)
		}
	}
}
