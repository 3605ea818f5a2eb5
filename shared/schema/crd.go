package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
	j, err := yaml.YAMLToJSON(withoutDescriptions(doc))
	if err != nil {
		// Not the text the scan expected: the error, if any, is the
		// document's own.
		if j, err = yaml.YAMLToJSON(doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return fromJSON(name, j, strict)
}

// fromJSON is FromCRD on the document as JSON.
func fromJSON(name string, j []byte, strict bool) ([]CRDSchema, error) {
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

// CRDHeader is what a CustomResourceDefinition defines, read without its
// schemas: enough to know whether a resource needs it.
type CRDHeader struct {
	Group, Kind string
}

// ReadCRDHeader reads spec.group and spec.names.kind of a block-style
// CustomResourceDefinition by scanning its lines, without parsing the
// schemas, which are nearly all of its bytes (an operator's CRD runs to a
// megabyte): FromCRD then converts only the CRDs a run meets. ok is false
// when the document is not plain enough to be sure (JSON, flow style,
// anchors, a key given twice): parse it with FromCRD then.
func ReadCRDHeader(doc []byte) (h CRDHeader, ok bool) {
	const (
		top = iota
		inSpec
		inNames
	)
	state, specIndent, namesIndent := top, -1, -1
	seen := map[string]bool{}
	for rest := doc; len(rest) > 0; {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		text := strings.TrimRight(string(line), " \r")
		body := strings.TrimLeft(text, " ")
		if body == "" || body[0] == '#' || body == "---" {
			continue
		}
		indent := len(text) - len(body)
		if indent == 0 && strings.ContainsRune("{[&*!%|>\"'?\t", rune(body[0])) {
			return CRDHeader{}, false
		}
		key, value, isKey := strings.Cut(body, ":")
		isKey = isKey && (value == "" || value[0] == ' ') && !strings.ContainsAny(key, " \"'{[-&*!")
		if state == inNames && indent <= specIndent {
			state = inSpec
		}
		if state == inSpec && indent == 0 {
			state = top
		}
		switch state {
		case top:
			if indent == 0 && isKey && key == "spec" {
				if strings.TrimSpace(value) != "" || seen["spec"] {
					return CRDHeader{}, false
				}
				seen["spec"], state = true, inSpec
			}
		case inSpec:
			if specIndent < 0 {
				specIndent = indent
			}
			if indent != specIndent || !isKey {
				continue
			}
			switch key {
			case "group":
				v, plain := plainScalar(value)
				if !plain || seen["group"] {
					return CRDHeader{}, false
				}
				h.Group, seen["group"] = v, true
			case "names":
				if strings.TrimSpace(value) != "" || seen["names"] {
					return CRDHeader{}, false
				}
				seen["names"], state, namesIndent = true, inNames, -1
			}
		case inNames:
			if namesIndent < 0 {
				namesIndent = indent
			}
			if indent == namesIndent && isKey && key == "kind" {
				v, plain := plainScalar(value)
				if !plain || seen["kind"] {
					return CRDHeader{}, false
				}
				h.Kind, seen["kind"] = v, true
			}
		}
		if h.Group != "" && h.Kind != "" {
			return h, true // the rest is the schemas
		}
	}
	return h, h.Group != "" && h.Kind != ""
}

// plainScalar reads a mapping value that is a plain or simply quoted
// word, dropping a trailing comment.
func plainScalar(value string) (string, bool) {
	v := strings.TrimSpace(value)
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	if v == "" || strings.ContainsAny(v, "\"'\\{}[]&*!|>#:, ") {
		return "", false
	}
	return v, true
}

// withoutDescriptions empties the text of every block-style
// "description:" of doc, keeping the key: descriptions are most of a
// CRD's bytes (prometheus-operator's are two thirds descriptions), the
// YAML parse is most of the cost of converting it, and the conversion
// drops them. A property named description has a mapping for its value,
// which is kept, as is anything not plainly a scalar.
func withoutDescriptions(doc []byte) []byte {
	const key = "description:"
	out := make([]byte, 0, len(doc)/2)
	skip := -1 // indentation of the description being skipped
	for rest := doc; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		text := bytes.TrimRight(line, " \r\n")
		body := bytes.TrimLeft(text, " ")
		indent := len(text) - len(body)
		if skip >= 0 {
			if len(body) == 0 || indent > skip {
				continue // the description's next lines
			}
			skip = -1
		}
		if v, ok := bytes.CutPrefix(body, []byte(key)); ok {
			v = bytes.TrimLeft(v, " ")
			if len(v) > 0 && len(v) < len(body)-len(key) && !bytes.ContainsAny(v[:1], "{[&*!#") {
				out = append(append(out, text[:indent+len(key)]...), " \"\"\n"...)
				skip = indent
				continue
			}
		}
		out = append(out, line...)
	}
	return out
}

// SchemasComplete reports whether the block-style
// apiextensions.k8s.io/v1 CustomResourceDefinition doc has, by scanning
// its lines, what FromCRD needs and the CRD's own schema does not require:
// at least one version, an openAPIV3Schema for each served one, and no
// $ref. It is false whenever it is unsure (flow style, anchors, v1beta1's
// spec.validation, a served flag it cannot read). A CRD that is complete
// and valid against the CustomResourceDefinition schema converts, so
// validation may leave converting it until a resource of its kind is met.
func SchemasComplete(doc []byte) bool {
	if bytes.Contains(doc, []byte("$ref")) {
		return false
	}
	const (
		top = iota
		inSpec
		inVersions
	)
	state, specIndent, dash, keyIndent := top, -1, -1, -1
	v1 := false
	type version struct{ served, schema, servedSeen bool }
	var versions []*version
	var cur *version
	schemaAt := -1 // indentation of the current version's "schema:" key
	for line := range bytes.Lines(doc) {
		text := strings.TrimRight(string(line), " \r\n")
		body := strings.TrimLeft(text, " ")
		if body == "" || body[0] == '#' || text == "---" {
			continue
		}
		indent := len(text) - len(body)
		if indent == 0 {
			state = top
			key, value, isKey := strings.Cut(body, ":")
			if !isKey || strings.ContainsAny(key, " \"'{[-") || (value != "" && value[0] != ' ') {
				return false
			}
			value = strings.TrimSpace(value)
			switch key {
			case "apiVersion":
				v1 = value == "apiextensions.k8s.io/v1"
			case "spec":
				if value != "" || specIndent >= 0 {
					return false
				}
				state = inSpec
			}
			continue
		}
		switch state {
		case inSpec:
			if specIndent < 0 {
				specIndent = indent
			}
			if indent != specIndent {
				continue
			}
			key, value, _ := strings.Cut(body, ":")
			switch key {
			case "validation", "version":
				return false // v1beta1's
			case "versions":
				if strings.TrimSpace(value) != "" || dash >= 0 {
					return false
				}
				state = inVersions
			}
		case inVersions:
			if dash < 0 {
				if !strings.HasPrefix(body, "- ") || indent < specIndent {
					return false
				}
				dash, keyIndent = indent, indent+2
			}
			if indent < dash || (indent == dash && !strings.HasPrefix(body, "- ")) {
				state = inSpec // the list ended: a key of spec
				if indent != specIndent {
					return false
				}
				if key, _, _ := strings.Cut(body, ":"); key == "validation" || key == "version" || key == "versions" {
					return false
				}
				continue
			}
			if indent == dash { // "- key: value", a new version
				cur = &version{}
				versions = append(versions, cur)
				schemaAt = -1
				body, indent = body[2:], keyIndent
				if strings.HasPrefix(body, " ") {
					return false
				}
			}
			if cur == nil {
				return false
			}
			if schemaAt >= 0 && indent > schemaAt {
				// The first level under schema: its one field.
				if key, value, _ := strings.Cut(body, ":"); key == "openAPIV3Schema" && strings.TrimSpace(value) == "" {
					cur.schema = true
				}
				schemaAt = -2 // deeper lines are the schema
				continue
			}
			if indent != keyIndent {
				continue
			}
			schemaAt = -1
			key, value, isKey := strings.Cut(body, ":")
			if !isKey || key == "<<" || strings.ContainsAny(body[:1], "&*!?{[") {
				return false // a merge, an anchor, a tag, flow style: unsure
			}
			value = strings.TrimSpace(value)
			switch key {
			case "served":
				if (value != "true" && value != "false") || cur.servedSeen {
					return false
				}
				cur.served, cur.servedSeen = value == "true", true
			case "schema":
				if value != "" {
					return false
				}
				schemaAt = keyIndent
			}
		}
	}
	if !v1 || len(versions) == 0 {
		return false
	}
	for _, v := range versions {
		if !v.servedSeen || (v.served && !v.schema) {
			return false
		}
	}
	return true
}
