package render

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// summary is what a test compares of a resource: "Kind ns/name @line".
func summary(r Resource) string {
	s := fmt.Sprintf("%s %s/%s @%d", r.Kind, r.Namespace, r.Name, r.Line)
	if r.Hook != "" {
		s += " hook=" + r.Hook
	}
	return s
}

func summaries(rs []Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, summary(r))
	}
	return out
}

func TestSplit(t *testing.T) {
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
	}
	tests := []struct {
		name string
		in   string
		want []string
		data []string // each resource's Data, when checked
	}{
		{"one document", cm("a"), []string{"ConfigMap /a @1"}, []string{cm("a")}},
		{"leading separator", "---\n" + cm("a"), []string{"ConfigMap /a @2"}, []string{cm("a")}},
		{"separator with a comment", cm("a") + "--- # next\n" + cm("b"),
			[]string{"ConfigMap /a @1", "ConfigMap /b @6"}, []string{cm("a"), cm("b")}},
		{"separator with trailing spaces", cm("a") + "---   \n" + cm("b"),
			[]string{"ConfigMap /a @1", "ConfigMap /b @6"}, nil},
		{"empty and comment-only documents are skipped", "# header\n---\n---\n\n---\n# only a comment\n  # indented\n---\n" + cm("a") + "---\n",
			[]string{"ConfigMap /a @9"}, []string{cm("a")}},
		{"comments before an object stay in its data", "# the config\n" + cm("a"),
			[]string{"ConfigMap /a @1"}, []string{"# the config\n" + cm("a")}},
		{"CRLF", strings.ReplaceAll(cm("a")+"---\r\n"+cm("b"), "\n", "\r\n"),
			[]string{"ConfigMap /a @1", "ConfigMap /b @6"},
			[]string{strings.ReplaceAll(cm("a"), "\n", "\r\n"), strings.ReplaceAll(cm("b"), "\n", "\r\n")}},
		{"BOM", "\ufeff" + cm("a"), []string{"ConfigMap /a @1"}, []string{cm("a")}},
		{"no final newline", strings.TrimSuffix(cm("a"), "\n"), []string{"ConfigMap /a @1"}, nil},
		{"---foo is content, not a separator", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: |\n    x\n---\n" + cm("b"),
			[]string{"ConfigMap /a @1", "ConfigMap /b @9"}, nil},
		{"null documents are empty", "null\n---\n~\n---\n" + cm("a"), []string{"ConfigMap /a @5"}, nil},
		{"document end marker", cm("a") + "...\n", []string{"ConfigMap /a @1"}, nil},
		{"namespace and hook", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  namespace: ns\n  annotations:\n    helm.sh/hook: pre-install\n",
			[]string{"Job ns/j @1 hook=pre-install"}, nil},
		{"JSON", `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}`, []string{"ConfigMap /a @1"}, nil},
		{"anchors within a document", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &n a\n  labels: {x: *n}\n", []string{"ConfigMap /a @1"}, nil},
		{"List items are cut out verbatim",
			"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  data:\n    k: |\n      line\n\n  # about b\n- " + strings.ReplaceAll(cm("b"), "\n", "\n  ") + "\nmetadata: {}\n",
			[]string{"ConfigMap /a @4", "ConfigMap /b @13"},
			[]string{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: |\n    line\n", cm("b")}},
		{"indented List items", "apiVersion: v1\nkind: List\nitems:\n    -   apiVersion: v1\n        kind: Secret\n        metadata:\n          name: s\n",
			[]string{"Secret /s @4"}, []string{"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"}},
		{"a |+ scalar keeps its trailing blank lines", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data:\n    k: |+\n      x\n\n",
			[]string{"ConfigMap /a @4"}, []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: |+\n    x\n\n"}},
		{"any kind ending in List with items", "apiVersion: v1\nkind: ConfigMapList\nitems:\n- " + strings.ReplaceAll(cm("a"), "\n", "\n  "),
			[]string{"ConfigMap /a @4"}, nil},
		{"a List kind without items is an object", "apiVersion: example.com/v1\nkind: AllowList\nmetadata:\n  name: a\nspec: {}\n",
			[]string{"AllowList /a @1"}, nil},
		{"an empty List is nothing", "apiVersion: v1\nkind: List\nitems: []\n", nil, nil},
		{"nested Lists", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: a\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n",
			[]string{"ConfigMap /a @7", "ConfigMap /b @11"}, []string{cm("a"), cm("b")}},
		{"flow List items are re-encoded, without a line",
			`{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"n": "1"}}]}`,
			[]string{"ConfigMap /a @0"}, []string{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  n: \"1\"\n"}},
		{"List items with aliases to outside anchors are re-encoded",
			"apiVersion: v1\nkind: List\nmetadata:\n  labels: &l {app: x}\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n    labels: *l\n",
			[]string{"ConfigMap /a @0"}, []string{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    app: x\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split("test", "in.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Split() error = %v", err)
			}
			if g := summaries(got); strings.Join(g, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("Split() =\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(tt.want, "\n"))
			}
			for i, r := range got {
				if r.Stream != "test" || r.Index != i || r.Source != "in.yaml" {
					t.Errorf("resource %d: Stream, Index, Source = %q, %d, %q; want \"test\", %d, \"in.yaml\"", i, r.Stream, r.Index, r.Source, i)
				}
				if i < len(tt.data) && string(r.Data) != tt.data[i] {
					t.Errorf("resource %d Data =\n%q\nwant\n%q", i, r.Data, tt.data[i])
				}
			}
		})
	}
}

// TestSplitLines checks the contract validate relies on: line Line of
// Source is the first line of Data, and the lines after it follow.
func TestSplitLines(t *testing.T) {
	in := "# c\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
	src := strings.Split(in, "\n")
	rs, err := Split("s", "in.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		for i, l := range strings.Split(strings.TrimSuffix(string(r.Data), "\n"), "\n") {
			if s := src[r.Line-1+i]; !strings.HasSuffix(s, l) {
				t.Errorf("%s: Data line %d = %q, but in.yaml:%d = %q", r.Name, i+1, l, r.Line+i, s)
			}
		}
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no kind", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# lost\napiVersion: v1\nmetadata: {name: b}\n",
			"x.yaml:6: document has no kind"},
		{"no apiVersion", "kind: ConfigMap\n", "x.yaml:1: document has no apiVersion"},
		{"null kind", "apiVersion: v1\nkind:\n", "x.yaml:1: document has no kind"},
		{"not an object", "---\n- a\n- b\n", "x.yaml:2: document is not an object"},
		{"a scalar", "---\nhello\n", "x.yaml:2: document is not an object"},
		{"List item without kind", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  metadata: {name: a}\n", "x.yaml:4: document has no kind"},
		{"List item not an object", "apiVersion: v1\nkind: List\nitems:\n- 3\n", "x.yaml:4: document is not an object"},
		{"malformed", "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n    namespace: b\n",
			"x.yaml:8: mapping values are not allowed in this context"},
		{"tab indentation", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n", "x.yaml:4: found character that cannot start any token"},
		{"unknown anchor", "apiVersion: v1\nkind: ConfigMap\nmetadata: *m\n", "x.yaml:1: unknown anchor 'm' referenced"},
		{"content after separator", "--- {apiVersion: v1, kind: ConfigMap}\n", `x.yaml:1: content after "---" is not supported: start the document on the next line`},
		{"billion laughs", bomb(9, 9), "x.yaml:1: excessive aliasing: aliases expand to more than 100000 nodes"},
		{"alias inside its own anchor", "apiVersion: v1\nkind: ConfigMap\nx: &x [a, *x]\n", "x.yaml:1: excessive aliasing: aliases expand to more than 100000 nodes"},
		{"wide bomb", bomb(3, 1000), "x.yaml:1: excessive aliasing: aliases expand to more than 100000 nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Split("s", "x.yaml", []byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Split() error = %v, want %q", err, tt.want)
			}
			if errors.Is(err, ErrInput) {
				t.Errorf("Split() error is ErrInput; bad content is a failed check, not bad input")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Split() took %v", d)
			}
		})
	}
}

// bomb is a ConfigMap whose data holds a billion-laughs structure: levels
// of lists, each repeating the previous one width times.
func bomb(levels, width int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nx:\n  l0: &l0 [lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [", i, i)
		for j := range width {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}
