package schema

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// compile compiles a schema document the way kubeconform does
// (pkg/validator's downloadSchema): draft 4 unless it says otherwise.
func compile(t testing.TB, doc []byte) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("jsonschema.UnmarshalJSON() = %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource("schema.json", v); err != nil {
		t.Fatalf("AddResource() = %v", err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("Compile() = %v", err)
	}
	return s
}

// readResource reads a testdata manifest as kubeconform does, with
// sigs.k8s.io/yaml, and returns it with its apiVersion and kind.
func readResource(t testing.TB, file string) (r map[string]any, apiVersion, kind string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &r); err != nil {
		t.Fatalf("yaml.Unmarshal(%s) = %v", file, err)
	}
	apiVersion, _ = r["apiVersion"].(string)
	kind, _ = r["kind"].(string)
	return r, apiVersion, kind
}

// problems validates r and lists each failure as "instance location:
// keyword", sorted; nil when r is valid.
func problems(t testing.TB, s *jsonschema.Schema, r any) []string {
	t.Helper()
	err := s.Validate(r)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate() = %v, want a *jsonschema.ValidationError", err)
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, "/"+strings.Join(e.InstanceLocation, "/")+": "+strings.Join(e.ErrorKind.KeywordPath(), "/"))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(out)
	return slices.Compact(out)
}

func TestBuiltinSchemas(t *testing.T) {
	tests := []struct {
		file        string
		strict, lax []string // problems found by strict and non-strict schemas
	}{
		{file: "builtin/deployment.yaml"},
		{file: "builtin/service.yaml"},
		{file: "builtin/ingress.yaml"},
		{file: "builtin/hpa.yaml"},
		{file: "builtin/configmap.yaml"},
		{file: "builtin/crd.yaml"},
		{file: "builtin/apiservice.yaml"},
		{
			file:   "builtin/containerport-string.yaml",
			strict: []string{"/spec/containers/0/ports/0/containerPort: type"},
			lax:    []string{"/spec/containers/0/ports/0/containerPort: type"},
		},
		{
			file:   "builtin/unknown-field.yaml",
			strict: []string{"/spec/containers/0: additionalProperties"},
		},
		{
			file:   "builtin/container-without-name.yaml",
			strict: []string{"/spec/containers/0: required"},
			lax:    []string{"/spec/containers/0: required"},
		},
		{
			file:   "builtin/selector-missing.yaml",
			strict: []string{"/spec: required"},
			lax:    []string{"/spec: required"},
		},
		{
			file:   "builtin/selector-null.yaml",
			strict: []string{"/spec/selector: type"},
			lax:    []string{"/spec/selector: type"},
		},
		{
			file:   "builtin/name-null.yaml",
			strict: []string{"/spec/containers/0/name: type"},
			lax:    []string{"/spec/containers/0/name: type"},
		},
		{
			file:   "builtin/quantity-bool.yaml",
			strict: []string{"/spec/containers/0/resources/limits/cpu: type"},
			lax:    []string{"/spec/containers/0/resources/limits/cpu: type"},
		},
		{
			file:   "builtin/targetport-list.yaml",
			strict: []string{"/spec/ports/0/targetPort: type"},
			lax:    []string{"/spec/ports/0/targetPort: type"},
		},
		{file: "builtin/enum-unchecked.yaml"}, // as with kubeconform: see the file
	}
	for _, v := range Versions() {
		c, err := Lookup(v)
		if err != nil {
			t.Fatalf("Lookup(%q) = %v", v, err)
		}
		for _, tt := range tests {
			t.Run(v+"/"+tt.file, func(t *testing.T) {
				r, apiVersion, kind := readResource(t, tt.file)
				for _, strict := range []bool{true, false} {
					doc, ok, err := c.Schema(apiVersion, kind, strict)
					if err != nil || !ok {
						t.Fatalf("Schema(%q, %q, %v) = %v, %v", apiVersion, kind, strict, ok, err)
					}
					want := tt.lax
					if strict {
						want = tt.strict
					}
					if got := problems(t, compile(t, doc), r); !slices.Equal(got, want) {
						t.Errorf("strict=%v: problems = %q, want %q", strict, got, want)
					}
				}
			})
		}
	}
}

// TestEveryKindCompiles compiles every schema of every release as
// kubeconform would: one that does not compile is a missing schema there.
// A document the same in several releases is compiled once.
func TestEveryKindCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles some 2,000 schemas")
	}
	compiled := map[string]bool{}
	for _, v := range Versions() {
		c, err := Lookup(v)
		if err != nil {
			t.Fatalf("Lookup(%q) = %v", v, err)
		}
		for _, k := range c.Kinds() {
			for _, strict := range []bool{true, false} {
				doc, ok, err := c.Schema(k.APIVersion(), k.Kind, strict)
				if err != nil || !ok {
					t.Fatalf("%s: Schema(%q, %q, %v) = %v, %v", v, k.APIVersion(), k.Kind, strict, ok, err)
				}
				if !compiled[string(doc)] {
					compile(t, doc)
					compiled[string(doc)] = true
				}
			}
		}
	}
}

func TestEmbeddedReleases(t *testing.T) {
	vs := Versions()
	if len(vs) < 4 {
		t.Fatalf("Versions() = %q, want at least 4", vs)
	}
	want := []GVK{
		{"apps", "v1", "Deployment"},
		{"", "v1", "Pod"},
		{"", "v1", "Service"},
		{"networking.k8s.io", "v1", "Ingress"},
		{"apiextensions.k8s.io", "v1", "CustomResourceDefinition"},
		{"autoscaling", "v2", "HorizontalPodAutoscaler"},
		{"apiregistration.k8s.io", "v1", "APIService"},
		{"batch", "v1", "CronJob"},
	}
	// What no release after 1.25 serves must find no schema, as with
	// kubeconform: the API server would refuse it.
	gone := []GVK{
		{"extensions", "v1beta1", "Ingress"},
		{"policy", "v1beta1", "PodDisruptionBudget"},
		{"apps", "v1", "DeploymentList"},
		{"", "v1", "Status"},
	}
	for i, v := range vs {
		c, err := Lookup(v)
		if err != nil {
			t.Fatalf("Lookup(%q) = %v", v, err)
		}
		if c.Version() != v {
			t.Errorf("Lookup(%q).Version() = %q", v, c.Version())
		}
		if i > 0 && !versionLess(vs[i-1], v) {
			t.Errorf("Versions() = %q: not oldest first", vs)
		}
		kinds := c.Kinds()
		for _, k := range want {
			if !slices.Contains(kinds, k) {
				t.Errorf("%s: Kinds() lacks %s %s", v, k.APIVersion(), k.Kind)
			}
		}
		for _, k := range gone {
			if _, ok, _ := c.Schema(k.APIVersion(), k.Kind, false); ok {
				t.Errorf("%s: Schema(%q, %q) found a schema", v, k.APIVersion(), k.Kind)
			}
		}
	}
}

func versionLess(a, b string) bool {
	amaj, amin, _ := parseMinor(a)
	bmaj, bmin, _ := parseMinor(b)
	return amaj < bmaj || amaj == bmaj && amin < bmin
}

func TestLookup(t *testing.T) {
	vs := Versions()
	oldest, newest := vs[0], vs[len(vs)-1]
	minor := func(v string) string { return strings.Join(strings.Split(v, ".")[:2], ".") }
	tests := []struct {
		name, version string
		want          string // the catalog's version; "" for an error
		err           error
	}{
		{"minor", minor(newest), newest, nil},
		{"other patch", minor(oldest) + ".0", oldest, nil},
		{"v prefix", "v" + minor(newest) + ".99", newest, nil},
		{"provider minor", minor(newest) + "+", newest, nil},
		{"exact", oldest, oldest, nil},
		{"too old", "1.20", "", ErrUnknownVersion},
		{"too new", "1.99.0", "", ErrUnknownVersion},
		{"not a version", "master", "", nil},
		{"empty", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Lookup(tt.version)
			if tt.want != "" {
				if err != nil || c.Version() != tt.want {
					t.Fatalf("Lookup(%q) = %v, want %s", tt.version, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Lookup(%q) = %s, want an error", tt.version, c.Version())
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("Lookup(%q) = %v, want %v", tt.version, err, tt.err)
			}
			for _, v := range vs {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("Lookup(%q) = %v: does not name %s", tt.version, err, v)
				}
			}
		})
	}
}

// TestSchemaDocument checks the form of a document: self-contained, draft
// 4, $ref alone in its object.
func TestSchemaDocument(t *testing.T) {
	c, err := Lookup(Versions()[0])
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := c.Schema("apps/v1", "Deployment", true)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := yaml.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	if root["$schema"] != draft4 {
		t.Errorf("$schema = %v, want %s", root["$schema"], draft4)
	}
	defs, _ := root["definitions"].(map[string]any)
	for _, name := range []string{"io.k8s.api.core.v1.Container", "io.k8s.apimachinery.pkg.util.intstr.IntOrString"} {
		if _, ok := defs[name]; !ok {
			t.Errorf("definitions lack %s", name)
		}
	}
	if _, ok := defs["io.k8s.api.core.v1.Service"]; ok {
		t.Errorf("definitions hold io.k8s.api.core.v1.Service, which a Deployment does not use")
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				if len(v) != 1 {
					t.Errorf("%s: $ref with siblings, which draft 4 ignores: %v", path, v)
				}
				if _, ok := defs[strings.TrimPrefix(r, defPrefix)]; !ok || !strings.HasPrefix(r, defPrefix) {
					t.Errorf("%s: $ref %q is not in the document", path, r)
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"/[]", x)
			}
		}
	}
	walk("", root)

	again, _, _ := c.Schema("apps/v1", "Deployment", true)
	if &again[0] != &doc[0] {
		t.Errorf("Schema() built the document twice")
	}
}

func TestSchemaConcurrent(t *testing.T) {
	c, err := Lookup(Versions()[len(Versions())-1])
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	for i := 0; i < 8; i++ {
		go func() {
			doc, _, _ := c.Schema("v1", "Pod", i%2 == 0)
			done <- doc
		}()
	}
	for i := 0; i < 8; i++ {
		if doc := <-done; len(doc) == 0 {
			t.Errorf("Schema(v1, Pod) = empty")
		}
	}
}

func BenchmarkSchema(b *testing.B) {
	c, err := Lookup(Versions()[len(Versions())-1])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			fresh := &Catalog{version: c.version, kinds: c.kinds, hashes: c.hashes, store: c.store}
			if _, ok, err := fresh.Schema("apps/v1", "Deployment", true); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, ok, err := c.Schema("apps/v1", "Deployment", true); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

func BenchmarkLoad(b *testing.B) {
	rs, err := releases()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := load(rs[len(rs)-1].file); err != nil {
			b.Fatal(err)
		}
	}
}
