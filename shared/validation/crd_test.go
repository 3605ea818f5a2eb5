package validation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/render"
)

// crd is a CustomResourceDefinition of kind in example.com whose spec
// requires the field required.
func crd(kind, required string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[2]ss.example.com
spec:
  group: example.com
  names:
    kind: %[1]s
    plural: %[2]ss
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [%[3]s]
              properties:
                size: {type: integer}
                color: {type: string, enum: [red, blue]}
`, kind, strings.ToLower(kind), required)
}

func resources(t *testing.T, docs ...string) []render.Resource {
	t.Helper()
	var rs []render.Resource
	for i, d := range docs {
		r, err := render.Split("chart", fmt.Sprintf("templates/doc%d.yaml", i), []byte(d))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r...)
	}
	return rs
}

// TestRenderedCRDs: the CRDs among the resources (a chart's crds/) are
// converted when a custom resource of their kind needs them, wherever it
// is in the order, or when their own verdict does; a complete, valid CRD
// that nothing uses is not converted at all. The verdicts are those of
// converting every CRD up front: custom resources judged by their CRD,
// the later of two definitions of a kind wins, and a CRD that cannot be
// converted is invalid itself while its custom resources have no schema,
// without failing the run (it is not --crd input).
func TestRenderedCRDs(t *testing.T) {
	noSchema := "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.example.com\nspec:\n  group: example.com\n  names:\n    kind: Gizmo\n    plural: gizmos\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n"
	var docs []string
	// Custom resources first: their CRDs come after them, as in a
	// render where templates/ sort before a subchart's crds/.
	for i := range 8 {
		kind := fmt.Sprintf("Widget%d", i)
		docs = append(docs,
			fmt.Sprintf("apiVersion: example.com/v1\nkind: %s\nmetadata: {name: ok}\nspec: {size: 1, color: red}\n", kind),
			fmt.Sprintf("apiVersion: example.com/v1\nkind: %s\nmetadata: {name: bad}\nspec: {size: one, color: green}\n", kind))
	}
	docs = append(docs,
		"apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\nspec: {}\n",
		"apiVersion: example.com/v1\nkind: Twice\nmetadata: {name: t}\nspec: {color: red}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n")
	for i := range 8 {
		docs = append(docs, crd(fmt.Sprintf("Widget%d", i), "size"))
	}
	docs = append(docs, noSchema,
		crd("Twice", "size"),  // replaced by the next one:
		crd("Twice", "color"), // spec: {color: red} is valid against it
		crd("Unused", "size"))
	rs := resources(t, docs...)

	for run := range 3 { // the order of the workers varies from run to run
		// The cache shows which CRDs were converted: one file each.
		cache := t.TempDir()
		v, err := New(Options{Strict: true, Workers: 4, CRDCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		out, err := v.Check(context.Background(), rs)
		v.Close()
		if err != nil {
			t.Fatalf("run %d: Check() = %v, want no error (a rendered CRD is not --crd input)", run, err)
		}
		got := map[string]Status{}
		msgs := map[string]string{}
		for _, r := range out.Results {
			key := r.Resource.Kind + "/" + r.Resource.Name
			if _, dup := got[key]; dup {
				key += "#2"
			}
			got[key] = r.Status()
			for _, c := range r.Checks {
				for _, p := range c.Problems {
					msgs[key] += p.Path + ": " + p.Message + "; "
				}
			}
		}
		want := map[string]Status{
			"Gizmo/g":     Missing,
			"Twice/t":     Valid,
			"ConfigMap/c": Valid,
			"CustomResourceDefinition/gizmos.example.com":   Invalid,
			"CustomResourceDefinition/twices.example.com":   Valid,
			"CustomResourceDefinition/twices.example.com#2": Valid,
			"CustomResourceDefinition/unuseds.example.com":  Valid,
		}
		for i := range 8 {
			want[fmt.Sprintf("Widget%d/ok", i)] = Valid
			want[fmt.Sprintf("Widget%d/bad", i)] = Invalid
			want[fmt.Sprintf("CustomResourceDefinition/widget%ds.example.com", i)] = Valid
		}
		for key, w := range want {
			if got[key] != w {
				t.Errorf("run %d: %s: %s (%s), want %s", run, key, got[key], msgs[key], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("run %d: %d results, want %d: %v", run, len(got), len(want), got)
		}
		if m := msgs["CustomResourceDefinition/gizmos.example.com"]; !strings.Contains(m, `version "v1": no openAPIV3Schema`) {
			t.Errorf("run %d: the CRD without a schema says %q", run, m)
		}
		// Converted: the 8 Widgets and the later Twice, which resources
		// use (Gizmo's fails: nothing to keep). Not the earlier Twice nor
		// Unused: complete and valid, nothing needs them.
		if files, _ := filepath.Glob(filepath.Join(cache, "crd", "*.json")); len(files) != 9 {
			t.Errorf("run %d: %d CRDs converted, want 9", run, len(files))
		}
		if m := msgs["Widget3/bad"]; !strings.Contains(m, "spec.size") || !strings.Contains(m, "spec.color") {
			t.Errorf("run %d: Widget3/bad says %q, want spec.size and spec.color", run, m)
		}
	}
}

// A rendered CRD that does not convert leaves its kind to the definition
// it came after, a --crd file's here, as when every CRD was converted up
// front: the custom resource is judged by that one, not left without a
// schema.
func TestRenderedCRDThatDoesNotConvert(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gadget.yaml")
	if err := os.WriteFile(file, []byte(crd("Gadget", "size")), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.example.com\nspec:\n  group: example.com\n  names:\n    kind: Gadget\n    plural: gadgets\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n"
	rs := resources(t, "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {color: red}\n", broken)
	v, err := New(Options{Strict: true, Workers: 2, CRDFiles: []string{file}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	out, err := v.Check(context.Background(), rs)
	if err != nil {
		t.Fatalf("Check() = %v", err)
	}
	for _, r := range out.Results {
		var msgs []string
		for _, c := range r.Checks {
			for _, p := range c.Problems {
				msgs = append(msgs, p.Path+": "+p.Message)
			}
		}
		if got := r.Status(); got != Invalid {
			t.Errorf("%s %s: %s %v, want invalid", r.Resource.Kind, r.Resource.Name, got, msgs)
		}
		if r.Resource.Kind == "Gadget" && !strings.Contains(strings.Join(msgs, "; "), "spec.size: required field is missing") {
			t.Errorf("Gadget: %v, want spec.size missing (the --crd file's schema)", msgs)
		}
	}
}
