package validation

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"sigs.k8s.io/yaml"
)

// kubeconform keeps only the first level of a schema error, which for any
// nested field is "validation failed" at the top-level key. When a resource
// is invalid and the schema is one of ours, the whole error (the same
// validation, see schemas) is read down to every leaf: the field, what was
// expected and what was found.

var printer = message.NewPrinter(language.English)

// violation is one leaf of a schema error.
type violation struct {
	segments []string // JSON pointer segments of the offending field
	message  string
	missing  bool // the field is absent: point at its parent
}

// explain lists the leaves of a schema error, sorted by field, each once.
func explain(ve *jsonschema.ValidationError) []violation {
	var out []violation
	collect(ve, &out)
	slices.SortStableFunc(out, func(a, b violation) int {
		return strings.Compare(strings.Join(a.segments, "/"), strings.Join(b.segments, "/"))
	})
	return slices.CompactFunc(out, func(a, b violation) bool {
		return slices.Equal(a.segments, b.segments) && a.message == b.message
	})
}

// explainAgain validates a resource kubeconform found invalid once more,
// with the schema compiled as kubeconform compiles it, for the error's
// leaves: for the few documents decode leaves to kubeconform.
func (s *schemas) explainAgain(path string, schemaDoc, resource []byte) ([]violation, error) {
	sch, err := s.get(path, schemaDoc)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(resource)
	if err != nil {
		return nil, fmt.Errorf("read resource: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, fmt.Errorf("read resource: %w", err)
	}
	var ve *jsonschema.ValidationError
	if err := sch.Validate(inst); !errors.As(err, &ve) {
		return nil, err
	}
	return explain(ve), nil
}

// collect walks the error tree down to the leaves, rewording them for
// people: one entry per unknown or missing field, and a oneOf of types
// ("int or string") as a single type error.
func collect(e *jsonschema.ValidationError, out *[]violation) {
	at := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, violation{segments: append(slices.Clone(at), p), message: "unknown field (not in the schema)"})
		}
		return
	case *kind.Required:
		for _, p := range k.Missing {
			*out = append(*out, violation{append(slices.Clone(at), p), "required field is missing", true})
		}
		return
	case *kind.OneOf, *kind.AnyOf:
		if want, got, ok := typeAlternatives(e); ok {
			*out = append(*out, violation{segments: at, message: fmt.Sprintf("wrong type: got %s, want %s", got, strings.Join(want, " or "))})
			return
		}
	case *kind.Type:
		*out = append(*out, violation{segments: at, message: fmt.Sprintf("wrong type: got %s, want %s", k.Got, strings.Join(withoutNull(k.Want), " or "))})
		return
	case *kind.Enum:
		// A field that may be null has null among its enum's values
		// (schema.allowNull): not a value to offer, as withoutNull says.
		want := slices.DeleteFunc(slices.Clone(k.Want), func(v any) bool { return v == nil })
		if len(want) > 0 && len(want) < len(k.Want) {
			k = &kind.Enum{Got: k.Got, Want: want}
		}
		*out = append(*out, violation{segments: at, message: k.LocalizedString(printer)})
		return
	}
	if len(e.Causes) == 0 {
		*out = append(*out, violation{segments: at, message: e.ErrorKind.LocalizedString(printer)})
		return
	}
	for _, c := range e.Causes {
		collect(c, out)
	}
}

// typeAlternatives reads a oneOf whose branches all failed on type alone.
func typeAlternatives(e *jsonschema.ValidationError) (want []string, got string, ok bool) {
	for _, c := range e.Causes {
		t, isType := c.ErrorKind.(*kind.Type)
		if !isType || len(c.Causes) > 0 {
			return nil, "", false
		}
		got = t.Got
		for _, w := range withoutNull(t.Want) {
			if !slices.Contains(want, w) {
				want = append(want, w)
			}
		}
	}
	return want, got, len(want) > 0
}

// withoutNull drops "null" from expected types: every optional field may
// be null, and saying so in each message is noise.
func withoutNull(types []string) []string {
	if len(types) < 2 {
		return types
	}
	return slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "null" })
}
