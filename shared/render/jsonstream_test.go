package render

import (
	"strings"
	"testing"
)

// JSON objects one after the other, as kubectl reads them (its own
// testdata has such files): each is a resource at its line. YAML reads
// the first and stops ("did not find expected <document start>").
func TestSplitJSONStream(t *testing.T) {
	data := `{
  "apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "a"}
}
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}

  {"apiVersion": "v1",
   "kind": "Secret", "metadata": {"name": "c"}}
---
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}}
`
	rs, err := Split("s", "s.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Kind+" "+r.Name+" "+strings.Repeat("+", r.Line))
	}
	want := []string{"Service a +", "ConfigMap b +++++", "Secret c +++++++", "ConfigMap d ++++++++++"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// One object, or a stream that is not all objects, is left to the YAML parser.
	for _, in := range []string{`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}`, "{\"a\": 1}\n[1]\n", "{\"a\": 1}\n{bad"} {
		if d := jsonStream(1, []byte(in)); d != nil {
			t.Errorf("jsonStream(%q) = %d documents, want nil", in, len(d))
		}
	}
}
