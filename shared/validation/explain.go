package validation

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"sigs.k8s.io/yaml"
)

// kubeconform keeps only the first level of a schema error, which for any
// nested field is "validation failed" at the top-level key. When a resource
// is invalid and the schema is one of ours, the explainer validates it again
// with the same library and settings and keeps every leaf: the field, what
// was expected and what was found.

var printer = message.NewPrinter(language.English)

// violation is one leaf of a schema error.
type violation struct {
	segments []string // JSON pointer segments of the offending field
	message  string
	missing  bool // the field is absent: point at its parent
}

// explainer compiles schemas the way kubeconform does (draft 4, its
// duration format) and caches them by file; different schemas compile in
// parallel, each only once.
type explainer struct {
	mu       sync.Mutex
	compiled map[string]*compiled
}

type compiled struct {
	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

func (e *explainer) explain(id string, schemaDoc, resource []byte) ([]violation, error) {
	sch, err := e.compile(id, schemaDoc)
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
	var out []violation
	collect(ve, &out)
	slices.SortStableFunc(out, func(a, b violation) int {
		return strings.Compare(strings.Join(a.segments, "/"), strings.Join(b.segments, "/"))
	})
	return slices.CompactFunc(out, func(a, b violation) bool {
		return slices.Equal(a.segments, b.segments) && a.message == b.message
	}), nil
}

func (e *explainer) compile(id string, doc []byte) (*jsonschema.Schema, error) {
	e.mu.Lock()
	if e.compiled == nil {
		e.compiled = map[string]*compiled{}
	}
	c, ok := e.compiled[id]
	if !ok {
		c = &compiled{}
		e.compiled[id] = c
	}
	e.mu.Unlock()
	c.once.Do(func() { c.schema, c.err = compileSchema(id, doc) })
	return c.schema, c.err
}

func compileSchema(id string, doc []byte) (*jsonschema.Schema, error) {
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", id, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.RegisterFormat(&jsonschema.Format{Name: "duration", Validate: validDuration})
	if err := c.AddResource(id, parsed); err != nil {
		return nil, fmt.Errorf("schema %s: %w", id, err)
	}
	s, err := c.Compile(id)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", id, err)
	}
	return s, nil
}

// validDuration accepts what the API server accepts: Go durations (1h30m),
// and ISO 8601 ones (PT1H30M) that kubeconform lets through too.
func validDuration(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if _, err := time.ParseDuration(s); err == nil || strings.HasPrefix(s, "P") {
		return nil
	}
	return fmt.Errorf("%q is not a duration", s)
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
