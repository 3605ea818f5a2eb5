package render

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// crdLike is shaped like controller-gen's output: Markdown bullets and
// emphasis in block scalars, and quoted and plain descriptions going on over
// several lines, one of them starting with a quote.
const crdLike = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        properties:
          containers:
            description: |-
              The names of containers managed by the operator are:
              * ` + "`widget`" + `
              * ` + "`reloader`" + `

              This is an *experimental feature*, pod & container level.
            type: array
          cloud:
            description: cloud defines the cloud. Options are
              'Public', 'China', or * 'Government'.
            type: string
          name:
            description: 'Container name: required for volumes,
              * optional for env & vars.'
            type: string
          rule:
            - message: at most one of a, b
              rule: "[has(self.a), *
                has(self.b)]"
`

func TestQuickHeaderReadsPastText(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  string
		ok   bool
	}{
		{"a CRD's descriptions: block, quoted and plain scalars", crdLike, true},
		{"a script in a ConfigMap", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  run.sh: |\n    set -e\n    make && make test\n    \tdone\n    rm -f *.o\n", true},
		{"a block scalar in a sequence", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  args:\n  - |\n    *not an alias*\n  - x\n", true},
		{"an alias after a block scalar", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &n s\ndata:\n  a: |\n    text\n  b: *n\n", false},
		{"an alias as the next key's value", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: |\n    text\n  b: *n\n", false},
		{"an alias in a sequence", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: [*n]\n", false},
		{"a merge key", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n<<: *base\n", false},
		{"an anchor before a block scalar", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: &x |\n    text\n", false},
		{"an alias after a closed quote", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: 'x' *n\n", false},
		{"an alias after a quote over lines", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: 'x\n    y'\n  b: *n\n", false},
		{"a quote that never ends", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: \"x *\n", false},
		{"a flow sequence over lines", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: [ x\n   - |\n      , *n ]\n", false},
		{"a tab outside text", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a:\t*x\n", false},
		{"a kind that goes on on the next line", "apiVersion: apps/v1\nkind: Deploy\n  ment\nmetadata:\n  name: s\n", false},
		{"a name that goes on on the next line", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n\n    b\n", false},
		{"a block scalar's text ends at its key's depth", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n- a: |\n    text\n  b: *n\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			api, kind, _, _, ok := quickHeader([]byte(tt.doc))
			if ok != tt.ok {
				t.Fatalf("quickHeader(%q) = %q %q ok=%v, want ok=%v", tt.doc, api, kind, ok, tt.ok)
			}
			if ok {
				checkSameHeader(t, []byte(tt.doc))
			}
		})
	}
}

// checkSameHeader fails when the full parse of doc reads another header
// than quickHeader, or finds anchors and aliases that quickHeader missed.
func checkSameHeader(t *testing.T, doc []byte) {
	t.Helper()
	api, kind, name, ns, ok := quickHeader(doc)
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		return // not YAML: the validator's parse reports it
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return
	}
	if !mayAlias(doc) && !loneCR(doc) && hasAlias(&root) {
		t.Fatalf("mayAlias(%q) = false, but it holds an anchor or alias", doc)
	}
	if !ok {
		return
	}
	rs, err := parseDoc("f.yaml", 1, doc)
	if err != nil || len(rs) != 1 {
		return
	}
	r := rs[0]
	if r.APIVersion != api || r.Kind != kind || r.Name != name || r.Namespace != ns {
		t.Fatalf("quickHeader(%q) = %q %q %q %q, the full parse %q %q %q %q", doc, api, kind, name, ns, r.APIVersion, r.Kind, r.Name, r.Namespace)
	}
}

func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// FuzzQuickHeader checks the header scan against the full parse: what it
// reads is what the parse reads, and a document it lets through has no
// anchor or alias (which only the full parse caps).
func FuzzQuickHeader(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		docs, _ := splitDocs(s, b)
		for _, d := range docs {
			f.Add(d.data)
		}
	}
	f.Add([]byte(crdLike))
	f.Add([]byte("apiVersion: 0\nkind: 0\n 00")) // the kind goes on on the next line
	f.Add([]byte(strings.ReplaceAll(crdLike, "*", "*a ")))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &n s\ndata:\n  a: |\n    text\n  b: *n\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  a: 'x\n    y'\n  b: *n\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  - x\n  - |\n   &y\n  - \"a\\\"\n    *b\"\n"))
	f.Add([]byte("\r&0")) // a line break YAML reads and a line scan does not
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkSameHeader(t, doc)
	})
}
