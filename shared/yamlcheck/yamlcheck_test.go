package yamlcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/finding"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // finding.String() of each finding
	}{
		{"valid multi-document", "a: 1\n---\nb: [1, 2]\n", nil},
		{"duplicate key", "image:\n  tag: v1\n  repository: x\n  tag: v2\n",
			[]string{`f.yaml:4:3: error: duplicate key "tag" (first at line 2): only one of the values is used [YL002]`}},
		{"duplicate in second document", "a: 1\n---\nb: 1\nb: 2\n",
			[]string{`f.yaml:4:1: error: duplicate key "b" (first at line 3): only one of the values is used [YL002]`}},
		{"same key in sibling mappings is fine", "a:\n  x: 1\nb:\n  x: 2\n", nil},
		{"merge keys may repeat", "base: &b {x: 1}\nother: &o {y: 2}\nc:\n  <<: *b\n  <<: *o\n", nil},
		{"tab indentation", "a:\n\tb: 1\n",
			[]string{"f.yaml:2:1: error: tab in indentation: YAML allows only spaces [YL003]"}},
		{"tab inside a value is fine", "a: \"x\ty\"\n", nil},
		{"syntax error", "a: 1\nb: [1, 2\nc: 3\n",
			[]string{"f.yaml:2:1: error: invalid YAML: did not find expected ',' or ']' [YL001]"}},
		{"unclosed mapping: reported where the input ends", "x: {a: 1\n",
			[]string{"f.yaml:2:1: error: invalid YAML: did not find expected ',' or '}' [YL001]"}},
		{"bad indentation", "a:\n  b: 1\n c: 2\n",
			[]string{"f.yaml:3:1: error: invalid YAML: did not find expected key [YL001]"}},
		{"mapping in wrong context", "a: b: c\n",
			[]string{"f.yaml:1:1: error: invalid YAML: mapping values are not allowed in this context [YL001]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check("f.yaml", []byte(tt.src))
			var lines []string
			for _, f := range got {
				lines = append(lines, f.String())
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Check() =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestBillionLaughs makes sure an alias bomb is reported, not expanded.
func TestBillionLaughs(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(n + ": &" + n + " [")
		for i := 0; i < 9; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = n
	}
	got := Check("bomb.yaml", []byte(b.String()))
	for _, f := range got {
		if f.Severity != finding.Error {
			t.Errorf("unexpected %v", f)
		}
	}
}

func TestRulesCoverFindings(t *testing.T) {
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
		if r.Summary == "" || r.HelpURI == "" || r.Name == "" {
			t.Errorf("rule %s lacks a name, summary or help", r.ID)
		}
	}
	for _, id := range []string{RuleSyntax, RuleDuplicate, RuleTab} {
		if !known[id] {
			t.Errorf("Rules() misses %s", id)
		}
	}
}

func FuzzCheck(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, s := range seeds {
		data, _ := os.ReadFile(s)
		f.Add(data)
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("a:\n\t- b\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, fd := range Check("f.yaml", src) {
			if fd.Line < 1 || fd.File != "f.yaml" {
				t.Fatalf("finding without a location: %+v", fd)
			}
			switch fd.RuleID {
			case RuleSyntax, RuleDuplicate, RuleTab:
			default:
				t.Fatalf("unknown rule %q", fd.RuleID)
			}
		}
	})
}
