package validation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"
	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/schema"
)

// Status of a resource against one Kubernetes version, or overall.
type Status string

const (
	Valid   Status = "valid"
	Invalid Status = "invalid" // the schema says no
	Missing Status = "missing" // no schema knows the kind
	Failed  Status = "error"   // the resource could not be read as an object
)

// rank orders statuses from best to worst, so a result takes its worst.
func (s Status) rank() int {
	switch s {
	case Valid:
		return 0
	case Missing:
		return 1
	case Invalid:
		return 2
	}
	return 3
}

// Problem is one thing wrong with one field.
type Problem struct {
	Path    string `json:"path"` // spec.template.spec.containers[0].image
	Message string `json:"message"`
	// RenderedLine is the line in the resource's document as rendered;
	// Line the line in its Source file, 0 when it cannot be told.
	RenderedLine int `json:"renderedLine,omitempty"`
	Line         int `json:"line,omitempty"`
	Column       int `json:"column,omitempty"`
}

// Check is the verdict of one Kubernetes version on one resource.
type Check struct {
	KubernetesVersion string    `json:"kubernetesVersion"`
	Status            Status    `json:"status"`
	Message           string    `json:"message,omitempty"` // for Missing and Failed
	Problems          []Problem `json:"problems,omitempty"`
	Schema            string    `json:"schema,omitempty"` // where the schema came from
}

// Result is every version's verdict on one resource.
type Result struct {
	Resource render.Resource
	Checks   []Check
}

// Status is the worst status among the checks.
func (r Result) Status() Status {
	worst := Valid
	for _, c := range r.Checks {
		if c.Status.rank() > worst.rank() {
			worst = c.Status
		}
	}
	return worst
}

// Options configure a Validator.
type Options struct {
	// KubernetesVersions are checked one by one, e.g. "1.35.0".
	KubernetesVersions []string
	// Strict makes fields the schema does not know errors, as kubectl's
	// server-side field validation does.
	Strict bool
	// SchemaLocations are kubeconform locations tried after the embedded
	// schemas and CRDs: URL or path templates, or "default" for
	// kubeconform's own repository (needs the network).
	SchemaLocations []string
	// CacheDir keeps schemas downloaded from SchemaLocations.
	CacheDir string
	// CRDCache keeps the schemas converted from CRDs, by the CRD's
	// content, so a later run reads them instead of converting again;
	// empty keeps none.
	CRDCache string
	// Workers validate in parallel; 0 means one per CPU.
	Workers int

	// The rest is for Check.

	// CRDFiles are CustomResourceDefinition files or directories whose
	// schemas validate custom resources; other objects in them are
	// ignored with a note.
	CRDFiles []string
	// MissingSchemas is what a kind without a schema does: "fail" (also
	// when empty), "warn" or "skip".
	MissingSchemas string
	// Root is the repository root: files named in the notes are made
	// relative to it when inside it.
	Root string
	// Log receives the notes on CRDFiles; nil discards them.
	Log io.Writer
	// Announce also logs the resources, versions and strictness before
	// validating.
	Announce bool
}

// Validator checks resources; it is safe for concurrent use.
type Validator struct {
	opts       Options
	store      *store
	validators map[string]validator.Validator
	schemas    schemas

	mu      sync.Mutex
	sources map[string][]byte     // template files, read once
	first   map[string]*sync.Once // per kind and version: see validateOnce

	warming sync.WaitGroup // Warm's goroutine
}

// New prepares the schemas of every version. A version gitship embeds no
// schemas for is an error unless SchemaLocations may know it.
func New(opts Options) (*Validator, error) {
	if len(opts.KubernetesVersions) == 0 {
		opts.KubernetesVersions = []string{schema.Latest()}
	}
	catalogs := map[string]*schema.Catalog{}
	for _, v := range opts.KubernetesVersions {
		v = strings.TrimPrefix(v, "v")
		c, err := schema.Lookup(v)
		if err != nil && len(opts.SchemaLocations) == 0 {
			return nil, fmt.Errorf("kubernetes version %s: %w", v, err)
		}
		catalogs[v] = c
	}
	st, err := newStore(opts.Strict, catalogs)
	if err != nil {
		return nil, err
	}
	st.cache = opts.CRDCache
	if opts.CacheDir != "" && len(opts.SchemaLocations) > 0 {
		if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
			st.close()
			return nil, fmt.Errorf("schema cache: %w", err)
		}
	} else {
		opts.CacheDir = ""
	}
	v := &Validator{opts: opts, store: st, validators: map[string]validator.Validator{}, sources: map[string][]byte{}, first: map[string]*sync.Once{}}
	locations := append([]string{st.location()}, opts.SchemaLocations...)
	for _, k := range opts.KubernetesVersions {
		k = strings.TrimPrefix(k, "v")
		kv, err := validator.New(locations, validator.Opts{
			KubernetesVersion:    k,
			Strict:               opts.Strict,
			IgnoreMissingSchemas: true, // told apart from other errors, then judged by --missing-schemas
			Cache:                opts.CacheDir,
		})
		if err != nil {
			st.close()
			return nil, fmt.Errorf("schema locations: %w", err)
		}
		v.validators[k] = kv
	}
	return v, nil
}

// Close removes the schema files laid out for kubeconform.
func (v *Validator) Close() error {
	v.warming.Wait()
	return v.store.close()
}

// AddCRD derives schemas from a CustomResourceDefinition document, so
// custom resources of its kind are validated; name is the file it is in.
func (v *Validator) AddCRD(name string, doc []byte) ([]schema.CRDSchema, error) {
	return v.store.addCRD(name, doc)
}

// Validate checks every resource against every version, in parallel; the
// results are in the order of rs. CRDs among rs are learnt first, so
// custom resources rendered beside their definition validate.
//
// Each CRD among rs is converted when the first custom resource of its
// kind is met (the other workers then wait for it: store.convert), or by
// the worker that checks the CRD itself when its verdict needs the
// conversion; not all of them one after another before any check starts:
// an operator's CRDs run to megabytes, and a chart uses few of its kinds.
// A CRD that is valid and complete (schema.SchemasComplete) converts, so
// one whose kinds no resource uses is never converted.
func (v *Validator) Validate(ctx context.Context, rs []render.Resource) ([]Result, error) {
	crdErrs := map[int]error{}
	lazy := map[int]*lazyCRD{}
	complete := map[int]bool{}
	for i, r := range rs {
		if r.Err != nil || !schema.IsCRD(r.APIVersion, r.Kind) {
			continue
		}
		if l, ok := v.store.addCRDLazily(r.Source, r.Data, false); ok {
			lazy[i], complete[i] = l, schema.SchemasComplete(r.Data)
		} else if _, err := v.store.addCRD(r.Source, r.Data); err != nil {
			crdErrs[i] = err
		}
	}
	results := make([]Result, len(rs))
	workers := v.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64 // work handed out by a counter, not a channel: no handoff per resource
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(rs) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				err, failed := crdErrs[i]
				l := lazy[i]
				if l != nil && !complete[i] {
					err = v.store.convertLazy(l)
					failed = err != nil
				}
				results[i] = v.validate(rs[i])
				if l != nil && complete[i] && results[i].Status() != Valid {
					// Valid against the CustomResourceDefinition schema
					// and complete (schema.SchemasComplete), a CRD
					// converts: left until a resource of its kind needs
					// it. Otherwise, what converting it says is part of
					// its verdict.
					err = v.store.convertLazy(l)
					failed = err != nil
				}
				if failed {
					for j := range results[i].Checks {
						c := &results[i].Checks[j]
						if c.Status == Missing {
							// A CRD of an API version the cluster does
							// not serve (apiextensions.k8s.io/v1beta1):
							// that is its verdict, as kubeconform's.
							continue
						}
						c.Status = Invalid
						c.Problems = append(c.Problems, Problem{Path: "spec", Message: err.Error()})
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return results, nil
}

func (v *Validator) validate(r render.Resource) Result {
	res := Result{Resource: r}
	if r.Err != nil {
		// Not an object (no kind, invalid YAML): unreadable for every
		// version, as kubeconform reports it, while the rest are checked.
		p := Problem{Message: r.Err.Msg, Line: r.Err.Line, RenderedLine: r.Err.DocLine}
		for _, k := range v.opts.KubernetesVersions {
			if !renderedFor(r, k) {
				continue
			}
			res.Checks = append(res.Checks, Check{KubernetesVersion: strings.TrimPrefix(k, "v"), Status: Failed,
				Message: r.Err.Msg, Problems: []Problem{p}})
		}
		return res
	}
	var doc *yaml.Node // parsed on demand, to place problems
	for _, k := range v.opts.KubernetesVersions {
		if !renderedFor(r, k) {
			continue
		}
		k = strings.TrimPrefix(k, "v")
		check := Check{KubernetesVersion: k}
		schemaDoc, origin, err := v.store.prepare(k, r.APIVersion, r.Kind)
		if err != nil {
			check.Status, check.Message = Failed, err.Error()
			res.Checks = append(res.Checks, check)
			continue
		}
		check.Schema = origin
		out, ve := v.run(k, r, schemaDoc)
		switch out.Status {
		case validator.Valid, validator.Empty:
			check.Status = Valid
		case validator.Skipped:
			check.Status = Missing
			check.Message = v.missingMessage(k, r.APIVersion, r.Kind)
			check.Schema = ""
			if doc == nil {
				doc = parseNode(r.Data)
			}
			check.Problems = []Problem{v.place(r, doc, violation{segments: []string{"apiVersion"}, message: check.Message})}
		case validator.Invalid:
			check.Status = Invalid
			var violations []violation
			switch {
			case ve != nil:
				violations = explain(ve)
			case schemaDoc != nil:
				violations, err = v.schemas.explainAgain(v.store.path(k, r.APIVersion, r.Kind), schemaDoc, r.Data)
			}
			if err != nil || len(violations) == 0 {
				violations = fromKubeconform(out)
			}
			if doc == nil {
				doc = parseNode(r.Data)
			}
			for _, vi := range violations {
				check.Problems = append(check.Problems, v.place(r, doc, vi))
			}
		default:
			check.Status = Failed
			check.Message = "cannot read the resource"
			if out.Err != nil {
				check.Message = out.Err.Error()
			}
			if doc == nil {
				doc = parseNode(r.Data)
			}
			if dups := v.duplicateProblems(r, doc); len(dups) > 0 {
				// The parser's message has a line of the rendered
				// document and no column: each key placed instead.
				check.Message, check.Problems = dups[0].Path+": "+dups[0].Message, dups
				break
			}
			check.Problems = []Problem{unreadable(r, check.Message)}
		}
		res.Checks = append(res.Checks, check)
	}
	return res
}

// renderedFor reports whether the render for Kubernetes version k has r:
// a chart may render differently per version (render.Resource.Versions).
func renderedFor(r render.Resource, k string) bool {
	return r.Versions == nil || slices.Contains(r.Versions, k) || slices.Contains(r.Versions, strings.TrimPrefix(k, "v"))
}

// run validates r against schemaDoc, the schema of its kind gitship has
// for Kubernetes k8sVersion (nil when it has none), as kubeconform's
// ValidateResource does, with its verdicts: the document read as
// kubeconform reads it (decode), the schema compiled as kubeconform
// compiles it (schemas), and the same library's validation. The error,
// for an invalid resource, is the whole of it, for explain. A document
// decode does not read plainly, or a kind without a schema of gitship's,
// goes to kubeconform itself (validateOnce), with a nil error.
func (v *Validator) run(k8sVersion string, r render.Resource, schemaDoc []byte) (validator.Result, *jsonschema.ValidationError) {
	if schemaDoc == nil || len(r.Data) == 0 {
		return v.validateOnce(k8sVersion, r), nil
	}
	obj, ok := decode(r.Data, v.opts.Strict)
	if !ok {
		return v.validateOnce(k8sVersion, r), nil
	}
	res := resource.Resource{Path: r.Source, Bytes: r.Data}
	if obj == nil {
		return validator.Result{Resource: res, Status: validator.Empty}, nil
	}
	// kubeconform looks the schema up by what it parsed; the header
	// render read says the same, or kubeconform decides.
	if kind, _ := obj["kind"].(string); kind != r.Kind {
		return v.validateOnce(k8sVersion, r), nil
	}
	if apiVersion, _ := obj["apiVersion"].(string); apiVersion != r.APIVersion {
		return v.validateOnce(k8sVersion, r), nil
	}
	sch, err := v.schemas.get(v.store.path(k8sVersion, r.APIVersion, r.Kind), schemaDoc)
	if err != nil {
		return v.validateOnce(k8sVersion, r), nil
	}
	err = sch.Validate(obj)
	if err == nil {
		return validator.Result{Resource: res, Status: validator.Valid}, nil
	}
	// As kubeconform words it: the first level of the error.
	out := validator.Result{Resource: res, Status: validator.Invalid,
		Err: fmt.Errorf("problem validating schema. Check JSON formatting: %s", strings.ReplaceAll(err.Error(), "\n", " "))}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		out.ValidationErrors = []validator.ValidationError{}
		for _, c := range ve.Causes {
			path := ""
			for _, f := range c.InstanceLocation {
				path += "/" + f
			}
			out.ValidationErrors = append(out.ValidationErrors, validator.ValidationError{Path: path, Msg: c.ErrorKind.LocalizedString(printer)})
		}
	}
	return out, ve
}

// validateOnce runs kubeconform on r. The first resource of each kind and
// version goes alone: kubeconform compiles a schema on first use and does
// not stop two workers from compiling the same one at once, which on a tree
// of thousands of resources was a tenth of the run.
func (v *Validator) validateOnce(k8sVersion string, r render.Resource) validator.Result {
	key := k8sVersion + " " + r.APIVersion + " " + r.Kind
	v.mu.Lock()
	once, ok := v.first[key]
	if !ok {
		once = &sync.Once{}
		v.first[key] = once
	}
	v.mu.Unlock()
	res := resource.Resource{Path: r.Source, Bytes: r.Data}
	var out validator.Result
	ran := false
	once.Do(func() { out, ran = v.validators[k8sVersion].ValidateResource(res), true })
	if !ran {
		out = v.validators[k8sVersion].ValidateResource(res)
	}
	return out
}

// missingMessage says why a kind has no schema: most often an API version
// the Kubernetes version no longer (or not yet) serves, else a custom
// resource whose CRD was not given.
func (v *Validator) missingMessage(k8sVersion, apiVersion, kind string) string {
	msg := fmt.Sprintf("no schema for %s %s", apiVersion, kind)
	if c := v.store.catalogs[k8sVersion]; c != nil {
		var served []string
		for _, gvk := range c.Kinds() {
			if gvk.Kind == kind {
				served = append(served, gvk.APIVersion())
			}
		}
		if len(served) > 0 {
			return fmt.Sprintf("%s: Kubernetes %s serves %s as %s", msg, c.Version(), kind, strings.Join(served, ", "))
		}
	}
	if len(v.opts.SchemaLocations) > 0 {
		return msg + " (not embedded, no CRD, not in the schema locations)"
	}
	return msg + " (a custom resource? pass its CRD with --crd, or add a --schema-location)"
}

// place turns a violation into a Problem with its field path and lines.
func (v *Validator) place(r render.Resource, doc *yaml.Node, vi violation) Problem {
	p := Problem{Path: FieldPath(vi.segments), Message: vi.message}
	at := vi.segments
	if vi.missing && len(at) > 0 {
		at = at[:len(at)-1] // an absent field is placed at its parent
	}
	p.RenderedLine, p.Column = locate(doc, at)
	switch {
	case r.Line > 0 && p.RenderedLine > 0:
		// The document is verbatim from its file: lines carry over, and
		// columns too but for a List item's indentation.
		p.Line = r.Line + p.RenderedLine - 1
		if p.Column > 0 {
			p.Column += r.Indent
		}
	case r.Line == 0 && r.Source != "":
		p.Line = templateLine(v.source(r.Source), at)
		p.Column = 0
	}
	return p
}

// source reads a template once per run; a missing file yields no lines.
func (v *Validator) source(path string) []byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	if b, ok := v.sources[path]; ok {
		return b
	}
	b, _ := os.ReadFile(path)
	v.sources[path] = b
	return b
}

// parserLine finds the parser's line in kubeconform's "error unmarshalling
// resource: error converting YAML to JSON: yaml: line 4: ..." message.
var parserLine = regexp.MustCompile(`yaml: line (\d+): (.*)$`)

// unreadable places a document that does not parse: at the parser's line,
// counted from the document's first line in its file.
func unreadable(r render.Resource, msg string) Problem {
	m := parserLine.FindStringSubmatch(msg)
	if m == nil {
		return Problem{Message: strings.TrimPrefix(msg, "error unmarshalling resource: ")}
	}
	n, _ := strconv.Atoi(m[1])
	p := Problem{Message: "invalid YAML: " + m[2], RenderedLine: n}
	if r.Line > 0 {
		p.Line = r.Line + n - 1
	}
	return p
}

func parseNode(data []byte) *yaml.Node {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil
	}
	return &n
}

// fromKubeconform reads kubeconform's own errors, for schemas that come
// from a user's location: less detail than the explainer, still a path.
func fromKubeconform(out validator.Result) []violation {
	var vs []violation
	for _, e := range out.ValidationErrors {
		vs = append(vs, violation{segments: splitPointer(e.Path), message: e.Msg})
	}
	if len(vs) == 0 && out.Err != nil {
		vs = append(vs, violation{message: out.Err.Error()})
	}
	return vs
}
