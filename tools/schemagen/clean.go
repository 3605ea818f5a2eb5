package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// keep lists the keywords that validate; descriptions, defaults, examples
// and the other x-kubernetes-* extensions only cost space. enum is left out
// on purpose: the Go definitions carry the enums of OpenAPI v3, but the
// swagger.json openapi2jsonschema (so kubeconform) works from has none, and
// results should agree. Everything else matches that document exactly.
var keep = map[string]bool{
	"$ref": true, "type": true, "format": true, "required": true,
	"properties": true, "additionalProperties": true, "patternProperties": true, "items": true,
	"allOf": true, "anyOf": true, "oneOf": true, "not": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"minLength": true, "maxLength": true, "pattern": true,
	"minItems": true, "maxItems": true, "uniqueItems": true, "minProperties": true, "maxProperties": true,
	"x-kubernetes-preserve-unknown-fields": true,
	"x-kubernetes-int-or-string":           true,
	"x-kubernetes-embedded-resource":       true,
}

// clean turns a definition into a plain JSON value holding only the
// validating keywords.
func clean(s spec.Schema) (any, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep integer bounds exact
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return cleanSchema(v), nil
}

func cleanSchema(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v // additionalProperties: true
	}
	out := map[string]any{}
	for k, x := range m {
		if !keep[k] {
			continue
		}
		switch k {
		case "properties", "patternProperties":
			props := map[string]any{}
			for name, p := range x.(map[string]any) {
				props[name] = cleanSchema(p)
			}
			x = props
		case "additionalProperties", "not":
			x = cleanSchema(x)
		case "items":
			if list, ok := x.([]any); ok {
				x = cleanList(list)
			} else {
				x = cleanSchema(x)
			}
		case "allOf", "anyOf", "oneOf":
			x = cleanList(x.([]any))
		}
		out[k] = x
	}
	return out
}

func cleanList(list []any) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = cleanSchema(s)
	}
	return out
}

// reachable returns the definitions the roots refer to, directly or not.
func reachable(defs map[string]any, roots []string) (map[string]any, error) {
	out := map[string]any{}
	todo := append([]string(nil), roots...)
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if _, done := out[name]; done {
			continue
		}
		d, ok := defs[name]
		if !ok {
			return nil, fmt.Errorf("definition %q is referred to but not defined", name)
		}
		out[name] = d
		todo = append(todo, refs(d, nil)...)
	}
	return out, nil
}

func refs(v any, acc []string) []string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := v[k].(string); ok && k == "$ref" {
				acc = append(acc, strings.TrimPrefix(s, "#/definitions/"))
				continue
			}
			acc = refs(v[k], acc)
		}
	case []any:
		for _, x := range v {
			acc = refs(x, acc)
		}
	}
	return acc
}
