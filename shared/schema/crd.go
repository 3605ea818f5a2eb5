package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"sigs.k8s.io/yaml"
)

var (
	// ErrNotCRD is returned by FromCRD for a document that is not a
	// CustomResourceDefinition.
	ErrNotCRD = errors.New("not a CustomResourceDefinition")
	// ErrNoSchema is returned by FromCRD when a served version has no
	// openAPIV3Schema: its resources could not be validated.
	ErrNoSchema = errors.New("no openAPIV3Schema")
)

// CRDSchema is the schema of one version of a custom resource.
type CRDSchema struct {
	Group, Version, Kind string
	// Served and Storage are the version's flags: the API server refuses a
	// resource of a version it does not serve.
	Served, Storage bool
	// Schema is a standalone JSON Schema document, as Catalog.Schema returns.
	Schema []byte
}

// IsCRD reports whether apiVersion and kind are those of a
// CustomResourceDefinition that FromCRD reads.
func IsCRD(apiVersion, kind string) bool {
	return kind == "CustomResourceDefinition" &&
		(apiVersion == "apiextensions.k8s.io/v1" || apiVersion == "apiextensions.k8s.io/v1beta1")
}

// crd is the part of a CustomResourceDefinition FromCRD reads, in
// apiextensions.k8s.io/v1 or v1beta1 (whose spec.version and
// spec.validation apply to every version that has none of its own).
type crd struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Version    string       `json:"version"`
		Validation *validation  `json:"validation"`
		Versions   []crdVersion `json:"versions"`
	} `json:"spec"`
}

type crdVersion struct {
	Name    string      `json:"name"`
	Served  bool        `json:"served"`
	Storage bool        `json:"storage"`
	Schema  *validation `json:"schema"`
}

type validation struct {
	OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
}

// FromCRD derives the schema of every version of the
// CustomResourceDefinition doc (YAML or JSON) that has one; it is an error
// for a served version to have none. name is the file doc comes from, for
// errors. Strict schemas refuse the fields the CRD does not declare, except
// where it preserves unknown fields.
func FromCRD(name string, doc []byte, strict bool) ([]CRDSchema, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var c crd
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !IsCRD(c.APIVersion, c.Kind) {
		return nil, fmt.Errorf("%s: %w: apiVersion %q, kind %q", name, ErrNotCRD, c.APIVersion, c.Kind)
	}
	where := fmt.Sprintf("%s: CustomResourceDefinition %q", name, c.Metadata.Name)
	if c.Spec.Group == "" || c.Spec.Names.Kind == "" {
		return nil, fmt.Errorf("%s: spec.group and spec.names.kind are required", where)
	}
	versions := c.Spec.Versions
	if len(versions) == 0 && c.Spec.Version != "" { // v1beta1's single version
		versions = []crdVersion{{Name: c.Spec.Version, Served: true, Storage: true}}
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("%s: no versions", where)
	}
	var out []CRDSchema
	for _, v := range versions {
		s := c.Spec.Validation
		if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			s = v.Schema
		}
		if s == nil || s.OpenAPIV3Schema == nil {
			if v.Served {
				return nil, fmt.Errorf("%s: version %q: %w", where, v.Name, ErrNoSchema)
			}
			continue
		}
		b, err := crdDocument(s.OpenAPIV3Schema, strict)
		if err != nil {
			return nil, fmt.Errorf("%s: version %q: %w", where, v.Name, err)
		}
		out = append(out, CRDSchema{
			Group: c.Spec.Group, Version: v.Name, Kind: c.Spec.Names.Kind,
			Served: v.Served, Storage: v.Storage, Schema: b,
		})
	}
	return out, nil
}

// crdDocument converts an openAPIV3Schema. Its root is a resource: like an
// embedded one, it has apiVersion, kind and metadata whether it says so
// or not.
func crdDocument(s map[string]any, strict bool) ([]byte, error) {
	root := make(map[string]any, len(s)+1)
	for k, v := range s {
		root[k] = v
	}
	root["x-kubernetes-embedded-resource"] = true
	if _, ok := root["type"]; !ok {
		root["type"] = "object"
	}
	conv := &converter{}
	out := conv.convert(root, false, strict).(map[string]any)
	if len(conv.refs) > 0 {
		return nil, fmt.Errorf("$ref %q: a CRD schema cannot refer to definitions", conv.refs[0])
	}
	out["$schema"] = draft4
	return marshal(out)
}
