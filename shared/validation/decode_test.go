package validation

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// decodeCases are documents whose values YAML 1.1, go-yaml v2 and JSON
// each read their own way.
var decodeCases = []struct {
	name string
	doc  string
	ok   bool // decode reads it itself, else leaves it to kubeconform
}{
	{"YAML 1.1 booleans", "a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: \"yes\"\n", true},
	{"integers", "a: 1\nb: -0\nc: 0x1F\nd: 0o17\ne: 017\nf: 0b101\ng: 1_000\nh: +5\n", true},
	{"integers past 2^53", "a: 9007199254740993\nb: 9223372036854775807\nc: -9223372036854775808\nd: 18446744073709551615\ne: 18446744073709551616\n", true},
	{"floats", "a: 1.5\nb: 1e3\nc: -0.0\nd: .5\ne: 6.8523015e+5\nf: 1.0\n", true},
	{"timestamps stay strings", "a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\n", true},
	{"nulls", "a: ~\nb: null\nc:\nd: Null\n", true},
	{"non-string keys", "1: a\n1.5: b\ntrue: c\n0.1: d\n-2: e\n", true},
	{"merge keys", "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  z: 3\n", true},
	{"a merge key and the same key", "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", false},
	{"nested lists and maps", "a: [1, {b: [yes, no]}, [], {}]\n", true},
	{"binary", "a: !!binary aGVsbG8=\n", true},
	{"strings JSON escapes", "a: \"<&>\\u2028\"\nb: '\\n'\n", true},
	{"an empty document", "# nothing\n", true},
	{"infinity", "a: .inf\n", false},
	{"not a number", "a: .nan\n", false},
	{"escapes", "a: \"\\xff\\u00e9\\t\"\n", true},
	{"binary that is not UTF-8", "a: !!binary /w==\n", false},
	{"a null key", "~: a\n", false},
	{"keys that read the same", "1: a\n\"1\": b\n", false},
	{"a duplicate key", "a: 1\na: 2\n", false},
	{"a list at the top", "- a\n", false},
	{"a scalar at the top", "a\n", false},
	{"not YAML", "a: [\n", false},
	{"a list as a key", "? [a]\n: b\n", false},
}

func TestDecodeAsSigsYAML(t *testing.T) {
	for _, tt := range decodeCases {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := decode([]byte(tt.doc), true)
			if ok != tt.ok {
				t.Fatalf("decode(%q) ok = %v, want %v", tt.doc, ok, tt.ok)
			}
			if ok {
				sameAsSigsYAML(t, []byte(tt.doc), got)
			}
		})
	}
}

// sameAsSigsYAML fails when got is not what kubeconform's read of doc
// (sigs.k8s.io/yaml's UnmarshalStrict into a map) gives.
func sameAsSigsYAML(t *testing.T, doc []byte, got map[string]any) {
	t.Helper()
	var want map[string]any
	if err := yaml.UnmarshalStrict(doc, &want); err != nil {
		t.Fatalf("decode(%q) read it, sigs.k8s.io/yaml: %v", doc, err)
	}
	if !sameValue(got, want) {
		t.Fatalf("decode(%q) = %#v, sigs.k8s.io/yaml %#v", doc, got, want)
	}
}

// sameValue is reflect.DeepEqual but for the sign of zero, which
// DeepEqual ignores and a schema's minimum does not: -0 must stay -0.
func sameValue(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && fa == fb && math.Signbit(fa) == math.Signbit(fb)
	}
	switch ta := a.(type) {
	case map[string]any:
		tb, ok := b.(map[string]any)
		if !ok || len(ta) != len(tb) || (ta == nil) != (tb == nil) {
			return false
		}
		for k, va := range ta {
			vb, ok := tb[k]
			if !ok || !sameValue(va, vb) {
				return false
			}
		}
		return true
	case []any:
		tb, ok := b.([]any)
		if !ok || len(ta) != len(tb) {
			return false
		}
		for i := range ta {
			if !sameValue(ta[i], tb[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// FuzzDecode checks decode against sigs.k8s.io/yaml on any document: what
// decode reads is what kubeconform reads.
func FuzzDecode(f *testing.F) {
	for _, tt := range decodeCases {
		f.Add([]byte(tt.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if got, ok := decode(doc, true); ok {
			sameAsSigsYAML(t, doc, got)
		}
	})
}

// fastCases are documents fastDecode reads itself (or leaves to go-yaml,
// as said), shaped like manifests and like what trips a YAML reader.
var fastCases = []struct {
	doc  string
	fast bool
}{
	{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # the name\n  labels: {app: web, tier: \"front\"}\ndata:\n  a: 'it''s'\n  b: \"x\"\n", true},
	{"spec:\n  containers:\n  - name: c\n    args: [--port=80, -v, '1']\n    ports:\n      - containerPort: 8080\n        name: http\n  - name: d\n", true},
	{"data:\n  script: |\n    #!/bin/sh\n    echo $1\n\n      indented\n  strip: |-\n    x\n\n  keep: |+\n    y\n\n\nnext: 1\n", true},
	{"a:\n- 1\n- 0x1F\n- 1e3\n- .5\n- yes\n- ~\n- 2001-12-14\n- 1_000\n- 0b11\n- -0b11\n- +12\n- 012\n- 1e999\n- 9223372036854775808\n", true},
	{"# only a comment\n", true},
	{"a:\n  -\n    b: 1\n  - # c\n    d: 2\n  -\n", true},
	{"a: [1, [2, {b: c}], {}, []]\nb: { }\n", true},
	{"key with spaces: v\n'quoted key': v\n\"dq\": v\n", true},
	{"a: b\n  c\n", false},      // a plain scalar over two lines
	{"a: \"b\\n\"\n", false},    // an escape
	{"a: &x b\nc: *x\n", false}, // anchors
	{"a: !!str 1\n", false},     // a tag
	{"1: a\n", false},           // a key that is not a string
	{"a: 1\na: 2\n", false},     // a duplicate
	{"a: >\n  folded\n", false}, // folded
	{"a: |2\n   x\n", false},    // an indentation indicator
	{"a: {b: c,\n  d: e}\n", false},
	{"a: b: c\n", false},
	{"a:\tb\n", false},
	{"a: é\n", false},
	{"a: 1", false}, // no final newline
	{"- a\n", false},
	{"a:\n  - b\n  c: d\n", false},
	{"a: |\n\n  x\n", false},
	{"a: .inf\n", false},
	{"<<: {a: 1}\n", false},
	{"a: [b, ]\n", false},
	{"a: {b}\n", false},
	{"a: [http://x]\n", false},
	{"A: {0?: {}}\n", false}, // "?" ends a plain scalar in a flow collection
}

func TestFastDecode(t *testing.T) {
	deep := func(open, closing string, n int) string {
		return "a: " + strings.Repeat(open, n) + strings.Repeat(closing, n) + "\n"
	}
	var nested strings.Builder
	for i := range 2000 {
		nested.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	for _, doc := range []string{deep("[", "]", 1_000_000), deep("{a: ", "}", 100_000), nested.String()} {
		// Deeper than go-yaml reads (or fastDecode follows): left to
		// go-yaml, without growing the stack.
		if _, ok := fastDecode([]byte(doc)); ok {
			t.Errorf("fastDecode(%.40q...) read %d bytes of nesting itself", doc, len(doc))
		}
	}
	for _, tt := range fastCases {
		got, ok := fastDecode([]byte(tt.doc))
		if ok != tt.fast {
			t.Errorf("fastDecode(%q) ok = %v, want %v", tt.doc, ok, tt.fast)
			continue
		}
		if ok {
			sameAsSigsYAML(t, []byte(tt.doc), got)
		}
	}
}

// FuzzFastDecode holds fastDecode to go-yaml's reading: what it reads
// itself, go-yaml reads too, the same, and sigs.k8s.io/yaml as well.
func FuzzFastDecode(f *testing.F) {
	for _, tt := range fastCases {
		f.Add([]byte(tt.doc))
	}
	for _, tt := range decodeCases {
		f.Add([]byte(tt.doc))
	}
	for _, doc := range runCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		got, ok := fastDecode(doc)
		if !ok {
			return
		}
		want, ok := decodeYAML(doc, true)
		if !ok {
			t.Fatalf("fastDecode(%q) = %#v, go-yaml does not read it", doc, got)
		}
		if !sameValue(got, want) {
			t.Fatalf("fastDecode(%q) = %#v, go-yaml %#v", doc, got, want)
		}
		sameAsSigsYAML(t, doc, got)
	})
}
