package schema

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func readCRD(t *testing.T, file string, strict bool) []CRDSchema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromCRD(file, b, strict)
	if err != nil {
		t.Fatalf("FromCRD(%s) = %v", file, err)
	}
	return got
}

func TestFromCRDVersions(t *testing.T) {
	got := readCRD(t, "crd/widgets.yaml", true)
	var versions []string
	for _, s := range got {
		versions = append(versions, strings.Join([]string{s.Group, s.Version, s.Kind}, "/"))
		if !s.Served {
			t.Errorf("%s: Served = false", s.Version)
		}
		if s.Storage != (s.Version == "v1") {
			t.Errorf("%s: Storage = %v", s.Version, s.Storage)
		}
	}
	want := []string{"example.com/v1/Widget", "example.com/v1beta1/Widget"}
	if !slices.Equal(versions, want) {
		t.Errorf("FromCRD() versions = %q, want %q", versions, want)
	}
}

func TestCustomResources(t *testing.T) {
	tests := []struct {
		crd, resource string
		strict, lax   []string // problems found by strict and non-strict schemas
	}{
		{crd: "crd/widgets.yaml", resource: "crd/widget-valid.yaml"},
		{crd: "crd/widgets.yaml", resource: "crd/widget-int-port.yaml"},
		{crd: "crd/widgets.yaml", resource: "crd/widget-v1beta1.yaml"},
		{
			crd: "crd/widgets.yaml", resource: "crd/widget-wrong-type.yaml",
			strict: []string{"/spec/config/level: type", "/spec/port: type", "/spec/size: type"},
			lax:    []string{"/spec/config/level: type", "/spec/port: type", "/spec/size: type"},
		},
		{
			crd: "crd/widgets.yaml", resource: "crd/widget-unknown-field.yaml",
			strict: []string{"/: additionalProperties", "/spec: additionalProperties"},
		},
		{
			crd: "crd/widgets.yaml", resource: "crd/widget-missing-required.yaml",
			strict: []string{"/spec/color: enum", "/spec/items/0: required", "/spec: required"},
			lax:    []string{"/spec/color: enum", "/spec/items/0: required", "/spec: required"},
		},
		{
			crd: "crd/v1beta1.yaml", resource: "crd/gizmo-invalid.yaml",
			strict: []string{"/spec/replicas: type"},
			lax:    []string{"/spec/replicas: type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			r, apiVersion, _ := readResource(t, tt.resource)
			for _, strict := range []bool{true, false} {
				var doc []byte
				for _, s := range readCRD(t, tt.crd, strict) {
					if s.Group+"/"+s.Version == apiVersion {
						doc = s.Schema
					}
				}
				if doc == nil {
					t.Fatalf("FromCRD(%s) has no schema for %s", tt.crd, apiVersion)
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

func TestFromCRDErrors(t *testing.T) {
	tests := []struct {
		file string
		err  error  // errors.Is; nil: any
		want string // in the message
	}{
		{"crd/no-schema.yaml", ErrNoSchema, `crd/no-schema.yaml: CustomResourceDefinition "gadgets.example.com": version "v1"`},
		{"crd/not-a-crd.yaml", ErrNotCRD, `crd/not-a-crd.yaml: not a CustomResourceDefinition: apiVersion "v1", kind "ConfigMap"`},
		{"crd/malformed.yaml", nil, "crd/malformed.yaml: "},
		{"crd/ref.yaml", nil, `version "v1": $ref "#/definitions/Spec"`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = FromCRD(tt.file, b, true)
			if err == nil {
				t.Fatalf("FromCRD(%s) = nil, want an error", tt.file)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("FromCRD(%s) = %v, want %v", tt.file, err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("FromCRD(%s) = %v, want it to contain %q", tt.file, err, tt.want)
			}
		})
	}
}

func TestIsCRD(t *testing.T) {
	tests := []struct {
		apiVersion, kind string
		want             bool
	}{
		{"apiextensions.k8s.io/v1", "CustomResourceDefinition", true},
		{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", true},
		{"apiextensions.k8s.io/v2", "CustomResourceDefinition", false},
		{"apps/v1", "Deployment", false},
	}
	for _, tt := range tests {
		if got := IsCRD(tt.apiVersion, tt.kind); got != tt.want {
			t.Errorf("IsCRD(%q, %q) = %v, want %v", tt.apiVersion, tt.kind, got, tt.want)
		}
	}
}

// ReadCRDHeader agrees with FromCRD wherever it answers, and declines what
// it cannot be sure of.
func TestReadCRDHeader(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "crd", "*.yaml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if !strings.Contains(string(b), "kind: CustomResourceDefinition") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			h, ok := ReadCRDHeader(b)
			derived, err := FromCRD(f, b, true)
			if err != nil || len(derived) == 0 {
				return // FromCRD's own tests
			}
			if !ok || h.Group != derived[0].Group || h.Kind != derived[0].Kind {
				t.Errorf("ReadCRDHeader() = %+v, %v; FromCRD says %s %s", h, ok, derived[0].Group, derived[0].Kind)
			}
		})
	}
	tests := []struct {
		name, doc string
		want      CRDHeader
		ok        bool
	}{
		{"block", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b.io\nspec:\n  # the group\n  group: b.io # ours\n  names:\n    plural: as\n    kind: \"Alpha\"\n    shortNames:\n    - al\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        properties:\n          group: {type: string}\n          names:\n            description: |\n              kind: Wrong\n", CRDHeader{"b.io", "Alpha"}, true},
		{"names after versions", "spec:\n    versions:\n    - name: v1\n      served: true\n    names:\n        kind: Beta\n    group: c.io\nstatus:\n  acceptedNames:\n    kind: Wrong\n", CRDHeader{"c.io", "Beta"}, true},
		{"kind outside names", "spec:\n  group: c.io\n  kind: Wrong\n", CRDHeader{Group: "c.io"}, false},
		{"JSON", `{"spec": {"group": "c.io", "names": {"kind": "X"}}}`, CRDHeader{}, false},
		{"flow names", "spec:\n  group: c.io\n  names: {kind: X}\n", CRDHeader{}, false},
		{"group twice", "spec:\n  group: c.io\n  group: d.io\n  names:\n    kind: X\n", CRDHeader{}, false},
		{"anchor", "spec: &s\n  group: c.io\n  names:\n    kind: X\n", CRDHeader{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := ReadCRDHeader([]byte(tt.doc))
			if ok != tt.ok || (ok && h != tt.want) {
				t.Errorf("ReadCRDHeader() = %+v, %v; want %+v, %v", h, ok, tt.want, tt.ok)
			}
		})
	}
}

// Emptying the descriptions before parsing changes no schema: not of the
// CRDs here, nor of the shapes a description takes, nor of a property
// named description.
func TestWithoutDescriptions(t *testing.T) {
	docs := map[string]string{}
	files, _ := filepath.Glob(filepath.Join("testdata", "crd", "*.yaml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		docs[f] = string(b)
	}
	docs["shapes"] = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  names: {kind: Thing, plural: things}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        description: Thing is a thing.
        type: object
        properties:
          spec:
            description: |-
              Spec: what is wanted.

              type: not a key, a line of the text
            type: object
            required: [description]
            properties:
              description:
                type: string
                description: a property named description
                maxLength: 3
              other: {description: "flow: kept", type: integer}
              plain:
                description: a plain scalar
                  on two lines
                type: string
                enum: [a, b]
              quoted:
                description: "a quoted
                  scalar"
                type: boolean
              onlyDescription:
                description: nothing else
              folded:
                description: >
                  folded
                format: int32
                type: integer
                minimum: 1
          status:
            description: 'single: quoted'
            type: object
            x-kubernetes-preserve-unknown-fields: true
`
	for name, doc := range docs {
		t.Run(filepath.Base(name), func(t *testing.T) {
			j1, err1 := yaml.YAMLToJSON([]byte(doc))
			j2, err2 := yaml.YAMLToJSON(withoutDescriptions([]byte(doc)))
			if err1 != nil && name == "shapes" {
				t.Fatal(err1)
			}
			if err1 != nil {
				return // FromCRD falls back to the document's own error
			}
			if err2 != nil {
				t.Fatalf("without descriptions: %v", err2)
			}
			for _, strict := range []bool{true, false} {
				want, errW := fromJSON(name, j1, strict)
				got, errG := fromJSON(name, j2, strict)
				if fmt.Sprint(errW) != fmt.Sprint(errG) || !reflect.DeepEqual(got, want) {
					t.Errorf("strict %t: schemas differ\nwith descriptions:    %v %s\nwithout descriptions: %v %s", strict, errW, schemasOf(want), errG, schemasOf(got))
				}
			}
		})
	}
	if got := string(withoutDescriptions([]byte("a:\n  description: |\n    x\n\n    y\n  b: 1\n"))); got != "a:\n  description: \"\"\n  b: 1\n" {
		t.Errorf("withoutDescriptions() = %q", got)
	}
}

func schemasOf(ss []CRDSchema) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.Version + ": " + string(s.Schema) + "\n")
	}
	return b.String()
}

// SchemasComplete is true only for CRDs that FromCRD converts, and true
// for the plain ones, prometheus-operator's style among them.
func TestSchemasComplete(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "crd", "*.yaml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := FromCRD(f, b, true)
			if SchemasComplete(b) && err != nil {
				t.Errorf("SchemasComplete() = true, but FromCRD: %v", err)
			}
		})
	}
	const head = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.b.io\nspec:\n  group: b.io\n  names:\n    kind: A\n    plural: as\n  scope: Namespaced\n"
	schema := "    schema:\n      openAPIV3Schema:\n        type: object\n        description: |\n          - name: v9\n            served: true\n"
	tests := []struct {
		name, doc string
		want      bool
	}{
		{"one version", head + "  versions:\n  - name: v1\n    served: true\n    storage: true\n" + schema, true},
		{"list indented", strings.ReplaceAll(head+"  versions:\n  - name: v1\n    served: true\n    storage: true\n"+schema, "\n  - ", "\n    - "), false}, // items' keys then at 6, the schema at 4: unsure
		{"indented list", head + "  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n", true},
		{"served first", head + "  versions:\n  - served: true\n    name: v1\n    storage: true\n" + schema + "  - served: false\n    name: v0\n    storage: false\n", true},
		{"served without schema", head + "  versions:\n  - name: v1\n    served: true\n    storage: true\n" + schema + "  - name: v2\n    served: true\n    storage: false\n", false},
		{"unserved without schema", head + "  versions:\n  - name: v1\n    served: true\n    storage: true\n" + schema + "  - name: v0\n    served: false\n    storage: false\n", true},
		{"no versions", head + "  versions: []\n", false},
		{"served unread", head + "  versions:\n  - name: v1\n    served: yes\n" + schema, false},
		{"served missing", head + "  versions:\n  - name: v1\n    storage: true\n" + schema, false},
		{"ref", head + "  versions:\n  - name: v1\n    served: true\n" + schema + "        properties:\n          a: {$ref: '#/x'}\n", false},
		{"v1beta1", strings.Replace(head, "/v1\n", "/v1beta1\n", 1) + "  version: v1\n  validation:\n    openAPIV3Schema:\n      type: object\n", false},
		{"flow schema", head + "  versions:\n  - name: v1\n    served: true\n    schema: {openAPIV3Schema: {type: object}}\n", false},
		{"null schema", head + "  versions:\n  - name: v1\n    served: true\n    schema:\n      openAPIV3Schema: null\n", false},
		{"merge", head + "  versions:\n  - <<: *v\n    name: v1\n    served: true\n" + schema, false},
		{"spec twice", head + "  versions:\n  - name: v1\n    served: true\n" + schema + "spec:\n  group: c.io\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SchemasComplete([]byte(tt.doc)); got != tt.want {
				t.Errorf("SchemasComplete() = %v, want %v\n%s", got, tt.want, tt.doc)
			}
			if tt.want {
				if _, err := FromCRD(tt.name, []byte(tt.doc), true); err != nil {
					t.Errorf("complete, but FromCRD: %v", err)
				}
			}
		})
	}
	for _, f := range []string{"crd-prometheuses.yaml", "crd-servicemonitors.yaml"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "crd", f)); err == nil && !SchemasComplete(b) {
			t.Errorf("%s: SchemasComplete() = false, want true", f)
		}
	}
}
