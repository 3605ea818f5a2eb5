package schema

import (
	"slices"
	"strings"
)

// draft4 is the draft kubeconform compiles schemas with. In it $ref ignores
// its siblings, so a $ref is always left alone in its object.
const draft4 = "http://json-schema.org/draft-04/schema#"

const defPrefix = "#/definitions/"

// keywords are those copied from an OpenAPI schema: the ones that validate
// and mean the same in draft 4. The x-kubernetes-* extensions, nullable and
// format int-or-string are read, then translated or dropped.
var keywords = map[string]bool{
	"type": true, "format": true, "enum": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"minLength": true, "maxLength": true, "pattern": true,
	"minItems": true, "maxItems": true, "uniqueItems": true, "minProperties": true, "maxProperties": true,
}

// converter turns OpenAPI schemas, of the embedded definitions or of a CRD,
// into JSON Schema with kubeconform's semantics.
type converter struct {
	// def returns the definition a $ref names; nil for a CRD.
	def func(name string) (any, error)
	// refs collects the $refs met, so a document can carry their definitions.
	refs []string
}

// convert converts s, the schema of a value that may be null when nullable
// (a field that is not required, an item, a map value) and whose objects
// refuse undeclared fields when strict. The input is never modified: the
// embedded definitions are shared.
func (c *converter) convert(s any, nullable, strict bool) any {
	m, ok := s.(map[string]any)
	if !ok {
		return s // true or false
	}
	if r, ok := m["$ref"].(string); ok {
		return c.ref(r, nullable)
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		if keywords[k] {
			out[k] = v
		}
	}
	types := typeList(m["type"])
	if intOrString(m) {
		// Either way of spelling it (format int-or-string in the built-in
		// definitions, the extension with an anyOf of the two in a CRD)
		// becomes one type list, whose error reads better than a oneOf's.
		types = []string{"integer", "string"}
		delete(out, "format")
	}

	props, hasProps := m["properties"].(map[string]any)
	embedded := m["x-kubernetes-embedded-resource"] == true
	if hasProps || embedded {
		required := map[string]bool{}
		for _, r := range stringList(m["required"]) {
			required[r] = true
		}
		p := make(map[string]any, len(props)+3)
		for name, ps := range props {
			// An embedded resource's metadata is an ObjectMeta whatever
			// the CRD declares of it: never strict.
			p[name] = c.convert(ps, !required[name], strict && !(embedded && name == "metadata"))
		}
		if embedded {
			// The API server accepts these in every embedded object (and a
			// custom resource is one) even when the schema omits them.
			for name, t := range map[string]string{"apiVersion": "string", "kind": "string", "metadata": "object"} {
				if _, ok := p[name]; !ok {
					p[name] = map[string]any{"type": nullType([]string{t}, !required[name])}
				}
			}
		}
		out["properties"] = p
	}
	if req := dedupe(stringList(m["required"])); len(req) > 0 {
		out["required"] = req // draft 4 refuses an empty list
	}
	if pp, ok := m["patternProperties"].(map[string]any); ok {
		p := make(map[string]any, len(pp))
		for re, ps := range pp {
			p[re] = c.convert(ps, true, strict)
		}
		out["patternProperties"] = p
	}
	switch ap := m["additionalProperties"].(type) {
	case map[string]any:
		out["additionalProperties"] = c.convert(ap, true, strict)
	case bool:
		out["additionalProperties"] = ap
	default:
		preserve := m["x-kubernetes-preserve-unknown-fields"] == true
		if strict && hasProps && !preserve {
			out["additionalProperties"] = false
		}
	}
	switch it := m["items"].(type) {
	case map[string]any:
		out["items"] = c.convert(it, true, strict)
	case []any:
		list := make([]any, len(it))
		for i, x := range it {
			list[i] = c.convert(x, true, strict)
		}
		out["items"] = list
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		list, ok := m[k].([]any)
		if !ok || len(list) == 0 || (k != "allOf" && intOrString(m) && onlyIntOrString(list)) {
			continue
		}
		// The branches only add checks to the value the schema describes:
		// that they accept null or unknown fields is the schema's business.
		conv := make([]any, len(list))
		for i, x := range list {
			conv[i] = c.convert(x, false, false)
		}
		out[k] = conv
	}
	if not, ok := m["not"].(map[string]any); ok {
		out["not"] = c.convert(not, false, false)
	}

	if nullable || m["nullable"] == true {
		return allowNull(out, types)
	}
	if len(types) > 0 {
		out["type"] = typeValue(types)
	}
	return out
}

// ref converts a $ref. Definitions accept null themselves (most values are
// optional), so where a value is required the reference is wrapped to
// refuse it.
func (c *converter) ref(r string, nullable bool) any {
	c.refs = append(c.refs, r)
	ref := map[string]any{"$ref": r}
	if nullable {
		return ref
	}
	var d map[string]any
	if c.def != nil {
		v, _ := c.def(strings.TrimPrefix(r, defPrefix)) // a bad $ref is reported when its definition is added
		d, _ = v.(map[string]any)
	}
	types := typeList(d["type"])
	if intOrString(d) {
		types = []string{"integer", "string"}
	}
	if len(types) == 0 {
		return map[string]any{"allOf": []any{ref}, "not": map[string]any{"type": "null"}}
	}
	return map[string]any{"allOf": []any{ref}, "type": typeValue(types)}
}

// allowNull makes the converted schema out, of the given types, accept null.
func allowNull(out map[string]any, types []string) map[string]any {
	if enum, ok := out["enum"].([]any); ok && !slices.Contains(enum, nil) {
		out["enum"] = append(slices.Clip(enum), nil)
	}
	if len(types) > 0 {
		out["type"] = nullType(types, true)
		return out
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf", "not"} {
		if _, ok := out[k]; ok {
			// The branches would refuse null: offer it beside them.
			return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, out}}
		}
	}
	return out // no type: null is fine already
}

func nullType(types []string, nullable bool) any {
	if nullable && !slices.Contains(types, "null") {
		types = append(slices.Clip(types), "null")
	}
	return typeValue(types)
}

func typeValue(types []string) any {
	if len(types) == 1 {
		return types[0]
	}
	list := make([]any, len(types))
	for i, t := range types {
		list[i] = t
	}
	return list
}

func intOrString(m map[string]any) bool {
	return m["format"] == "int-or-string" || m["x-kubernetes-int-or-string"] == true
}

// onlyIntOrString reports whether an anyOf or oneOf only spells out what
// x-kubernetes-int-or-string says, as CRD generators write it.
func onlyIntOrString(list []any) bool {
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok || len(m) != 1 || (m["type"] != "integer" && m["type"] != "string") {
			return false
		}
	}
	return true
}

func typeList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		return stringList(t)
	}
	return nil
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func dedupe(list []string) []any {
	seen := map[string]bool{}
	var out []any
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
