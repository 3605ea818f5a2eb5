package validation

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
)

// schemas compiles the schemas gitship lays out (embedded kinds, CRDs) the
// way kubeconform's validator does (downloadSchema: draft 4 by default,
// its "duration" format, the file's path as the schema's id), once each,
// and keeps them: the resources of a kind are validated by them directly,
// and their errors explained from the same validation, without compiling
// anything a second time.
type schemas struct {
	mu       sync.Mutex
	compiled map[string]*compiled // by file
	// warmed are compiled ahead of need (Validator.Warm), by file, with
	// the document they were compiled from: get takes one only for the
	// same document (a CRD learnt later may give the file another).
	warmed map[string]*compiled
}

type compiled struct {
	once   sync.Once
	schema *jsonschema.Schema
	err    error
	doc    []byte // for warmed ones
}

// get compiles doc, the schema kubeconform would read from the file path,
// or returns it compiled already.
func (s *schemas) get(path string, doc []byte) (*jsonschema.Schema, error) {
	s.mu.Lock()
	if s.compiled == nil {
		s.compiled = map[string]*compiled{}
	}
	c, ok := s.compiled[path]
	if !ok {
		c = &compiled{}
		if w := s.warmed[path]; w != nil && bytes.Equal(w.doc, doc) {
			c = w // compiled, or being compiled: once.Do waits for it
		}
		s.compiled[path] = c
	}
	s.mu.Unlock()
	c.once.Do(func() { c.schema, c.err = compileSchema(path, doc) })
	return c.schema, c.err
}

// warm compiles doc for path as get would, unless get has already: for
// get to find it compiled.
func (s *schemas) warm(path string, doc []byte) {
	s.mu.Lock()
	if s.compiled[path] != nil || s.warmed[path] != nil {
		s.mu.Unlock()
		return
	}
	if s.warmed == nil {
		s.warmed = map[string]*compiled{}
	}
	c := &compiled{doc: doc}
	s.warmed[path] = c
	s.mu.Unlock()
	c.once.Do(func() { c.schema, c.err = compileSchema(path, doc) })
}

// errNoLoad refuses a "$ref" to another document: kubeconform's loaders
// would fetch it; such a schema is left to kubeconform.
var errNoLoad = errors.New("schema refers to another document")

type noLoader struct{}

func (noLoader) Load(string) (any, error) { return nil, errNoLoad }

func compileSchema(path string, doc []byte) (*jsonschema.Schema, error) {
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	if parsed == nil {
		return nil, fmt.Errorf("schema %s: null", path)
	}
	c := jsonschema.NewCompiler()
	c.RegisterFormat(&jsonschema.Format{Name: "duration", Validate: validateDuration})
	c.UseLoader(noLoader{})
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource(path, parsed); err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	s, err := c.Compile(path)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	return s, nil
}

// validateDuration is kubeconform v0.8.0's check of the "duration" format
// (pkg/validator, Apache-2.0), which it does not export: Go durations
// (1h30m), as Kubernetes reads them, or ISO 8601 ones (PT1H30M).
func validateDuration(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if _, err := strfmt.ParseDuration(s); err == nil {
		return nil
	}
	s, ok = strings.CutPrefix(s, "P")
	if !ok {
		return fmt.Errorf("must start with P")
	}
	if s == "" {
		return fmt.Errorf("nothing after P")
	}
	if s, ok := strings.CutSuffix(s, "W"); ok {
		if s == "" {
			return fmt.Errorf("no number in week")
		}
		for _, ch := range s {
			if ch < '0' || ch > '9' {
				return fmt.Errorf("invalid week")
			}
		}
		return nil
	}
	allUnits := []string{"YMD", "HMS"}
	for i, s := range strings.Split(s, "T") {
		if i != 0 && s == "" {
			return fmt.Errorf("no time elements")
		}
		if i >= len(allUnits) {
			return fmt.Errorf("more than one T")
		}
		units := allUnits[i]
		for s != "" {
			digitCount := 0
			for _, ch := range s {
				if ch >= '0' && ch <= '9' {
					digitCount++
				} else {
					break
				}
			}
			if digitCount == 0 {
				return fmt.Errorf("missing number")
			}
			s = s[digitCount:]
			if s == "" {
				return fmt.Errorf("missing unit")
			}
			unit := s[0]
			j := strings.IndexByte(units, unit)
			if j == -1 {
				if strings.IndexByte(allUnits[i], unit) != -1 {
					return fmt.Errorf("unit %q out of order", unit)
				}
				return fmt.Errorf("invalid unit %q", unit)
			}
			units = units[j+1:]
			s = s[1:]
		}
	}
	return nil
}
