package validation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/schema"
	"github.com/gitship/gitship/shared/step"
)

// Outcome is what Check found: every resource's result, judged by the
// Options' missing-schemas policy.
type Outcome struct {
	Results []Result
	missing finding.Severity
}

// Run validates rs the way a step does: the validator is made first, so a
// Kubernetes version with no schemas is bad input (exit 2) before any log
// group opens, then Check runs in the folded "Validate" group.
func Run(ctx context.Context, opts Options, rs []render.Resource, r *step.Run) (Outcome, error) {
	v, err := New(opts)
	if err != nil {
		return Outcome{}, step.Usagef("--kubernetes-version: %v", err)
	}
	defer v.Close()
	return v.Run(ctx, rs, r)
}

// Run is Check in the folded "Validate" group, for a step that made the
// validator before it rendered (to Warm it).
func (v *Validator) Run(ctx context.Context, rs []render.Resource, r *step.Run) (Outcome, error) {
	var out Outcome
	err := r.Group("Validate", func() error {
		var err error
		out, err = v.Check(ctx, rs)
		return err
	})
	return out, err
}

// Check learns the CRDs of Options.CRDFiles, then validates rs against
// every Kubernetes version. Bad --crd input is a step.UsageError.
func (v *Validator) Check(ctx context.Context, rs []render.Resource) (Outcome, error) {
	out := Outcome{missing: MissingSeverity(v.opts.MissingSchemas)}
	log := v.opts.Log
	if log == nil {
		log = io.Discard
	}
	if err := v.addCRDFiles(log); err != nil {
		return out, err
	}
	if v.opts.Announce {
		fmt.Fprintf(log, "Validating %d resources against Kubernetes %s (strict: %t)\n",
			len(rs), strings.Join(v.opts.KubernetesVersions, ", "), v.opts.Strict)
	}
	results, err := v.Validate(ctx, rs)
	if err != nil {
		return out, err
	}
	if errs := v.store.lazyErrors(); len(errs) > 0 {
		// A --crd file is input: one that cannot be used is exit 2, as
		// when it was converted up front.
		return out, step.Usagef("--crd: %v", errors.Join(errs...))
	}
	out.Results = results
	return out, nil
}

// Findings are one finding per problem; kinds without a schema are
// errors, warnings or left out, as the policy says.
func (o Outcome) Findings() []finding.Finding { return Findings(o.Results, o.missing) }

// Totals counts the resources by their overall status.
func (o Outcome) Totals() Totals { return Count(o.Results) }

// Failing counts the resources that fail a step: invalid or unreadable
// ones, and those without a schema when the policy is "fail".
func (o Outcome) Failing() int { return CountFailing(o.Results, o.missing == finding.Error) }

// RelativeTo makes the results' sources relative to the repository root
// when they are inside it, so findings name files the way the CI's
// annotations expect.
func (o Outcome) RelativeTo(root string) {
	for i := range o.Results {
		o.Results[i].Resource.Source = relTo(root, o.Results[i].Resource.Source)
	}
}

// MissingSeverity is the severity of a kind without a schema under a
// --missing-schemas policy: fail (or empty), warn or skip.
func MissingSeverity(policy string) finding.Severity {
	switch policy {
	case "warn":
		return finding.Warning
	case "skip":
		return finding.None
	}
	return finding.Error
}

// KubernetesVersions cleans a --kubernetes-version list: comma-separated
// items split, "v" prefixes dropped, the newest embedded release when empty.
func KubernetesVersions(vs []string) []string {
	var out []string
	for _, item := range vs {
		// "1.34.0,1.37.0" on the command line too, as the docs show it.
		for _, v := range strings.Split(item, ",") {
			if v = strings.TrimPrefix(strings.TrimSpace(v), "v"); v != "" {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		out = []string{schema.Latest()}
	}
	return out
}

// InputError makes a missing input a usage error (exit 2); a chart that
// does not render is a failed check (exit 1).
func InputError(err error) error {
	if errors.Is(err, render.ErrInput) {
		return step.Usagef("%v", err)
	}
	return err
}

// CountFailing counts resources that fail a step: invalid or unreadable ones,
// and those without a schema when missingFails.
func CountFailing(results []Result, missingFails bool) int {
	n := 0
	for _, r := range results {
		switch r.Status() {
		case Invalid, Failed:
			n++
		case Missing:
			if missingFails {
				n++
			}
		}
	}
	return n
}

// addCRDFiles learns the CRDs in Options.CRDFiles; anything else there
// is ignored with a note, since CRD bundles often carry other objects.
func (v *Validator) addCRDFiles(log io.Writer) error {
	paths, root := v.opts.CRDFiles, v.opts.Root
	if len(paths) == 0 {
		return nil
	}
	rs, err := render.ReadManifests(paths, nil)
	if err != nil {
		return InputError(fmt.Errorf("--crd: %w", err))
	}
	crds := 0
	for _, r := range rs {
		if !schema.IsCRD(r.APIVersion, r.Kind) {
			fmt.Fprintf(log, "--crd: %s: %s %s is not a CustomResourceDefinition, ignored\n", relTo(root, r.Source), r.Kind, r.Name)
			continue
		}
		crds++
		// Converted when a resource of its kind is met: most of a run's
		// CRDs (an operator's dozen) define kinds it does not use.
		if _, ok := v.store.addCRDLazily(relTo(root, r.Source), r.Data, true); ok {
			continue
		}
		if _, err := v.AddCRD(relTo(root, r.Source), r.Data); err != nil {
			return step.Usagef("--crd: %v", err)
		}
	}
	fmt.Fprintf(log, "--crd: %d CustomResourceDefinitions from %d files\n", crds, len(paths))
	return nil
}

// relTo makes path relative to the repository root when it is inside it.
func relTo(root, path string) string {
	if path == "" || path == "-" || root == "" {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}
