package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/gitship/gitship/shared/atomicfile"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/schema"
	"github.com/gitship/gitship/shared/step"
)

// Run renders what the settings name, validates it and reports on r's
// platform. It returns an error wrapping step.ErrCheckFailed when a
// resource fails, and a step.UsageError for bad input.
func Run(ctx context.Context, s Settings, r *step.Run) error {
	// A run is short and its garbage is parsed YAML: collecting less often
	// saves a fifth of the CPU on large trees, for memory it gives back at
	// exit. Inputs are capped (render.MaxFileSize, alias limits).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	if len(s.Charts.Value())+len(s.Kustomize.Value())+len(s.Manifests.Value()) == 0 {
		return step.Usagef("nothing to validate: give --chart, --kustomize or --manifests")
	}
	missing := map[string]finding.Severity{"fail": finding.Error, "warn": finding.Warning, "skip": finding.None}[s.MissingSchemas]
	versions := KubernetesVersions(s.KubernetesVersions.Value())
	// A directory --render-to must not replace is refused before the work.
	if s.RenderTo != "" {
		if err := render.CheckTree(s.RenderTo); err != nil {
			return InputError(fmt.Errorf("--render-to: %w", err))
		}
	}
	report, r := r.ForReport(s.Format, s.Output)
	root := r.Context().Workspace

	var resources []render.Resource
	err := r.Group("Render", func() error {
		var err error
		resources, err = render.Sources{Charts: s.Charts.Value(), Values: s.Values.Value(), Set: s.Set.Value(),
			ReleaseName: s.ReleaseName, Namespace: s.Namespace, Kustomize: s.Kustomize.Value(),
			Manifests: s.Manifests.Value(), Stdin: os.Stdin}.Render(ctx, versions[0], r.Stdout)
		if err != nil {
			return InputError(err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cache := s.SchemaCache
	if cache == "" && len(s.SchemaLocations.Value()) > 0 {
		if dir, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(dir, "gitship", "schemas")
		}
	}
	v, err := New(Options{KubernetesVersions: versions, Strict: s.Strict,
		SchemaLocations: s.SchemaLocations.Value(), CacheDir: cache})
	if err != nil {
		return step.Usagef("--kubernetes-version: %v", err)
	}
	defer v.Close()

	var results []Result
	err = r.Group("Validate", func() error {
		if err := AddCRDFiles(v, s.CRDs.Value(), root, r.Stdout); err != nil {
			return err
		}
		fmt.Fprintf(r.Stdout, "Validating %d resources against Kubernetes %s (strict: %t)\n",
			len(resources), strings.Join(versions, ", "), s.Strict)
		results, err = v.Validate(ctx, resources)
		return err
	})
	if err != nil {
		return err
	}
	for i := range results {
		results[i].Resource.Source = relTo(root, results[i].Resource.Source)
		resources[i] = results[i].Resource
	}

	findings := Findings(results, missing)
	if err := publish(r, report, s, versions, results, findings); err != nil {
		return err
	}
	if s.RenderTo != "" {
		files, err := render.WriteTree(s.RenderTo, resources)
		if err != nil {
			return InputError(fmt.Errorf("--render-to: %w", err))
		}
		fmt.Fprintf(r.Stdout, "Rendered manifests written to %s (%d files)\n", s.RenderTo, len(files))
	}
	if n := CountFailing(results, missing == finding.Error); n > 0 {
		return fmt.Errorf("%d of %d resources failed validation: %w", n, len(results), step.ErrCheckFailed)
	}
	return nil
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

// AddCRDFiles teaches v the CRDs in the --crd files; anything else there
// is ignored with a note, since CRD bundles often carry other objects.
func AddCRDFiles(v *Validator, paths []string, root string, log io.Writer) error {
	if len(paths) == 0 {
		return nil
	}
	rs, err := render.ReadManifests(paths, nil)
	if err != nil {
		return InputError(fmt.Errorf("--crd: %w", err))
	}
	versions := 0
	for _, r := range rs {
		if !schema.IsCRD(r.APIVersion, r.Kind) {
			fmt.Fprintf(log, "--crd: %s: %s %s is not a CustomResourceDefinition, ignored\n", relTo(root, r.Source), r.Kind, r.Name)
			continue
		}
		derived, err := v.AddCRD(relTo(root, r.Source), r.Data)
		if err != nil {
			return step.Usagef("--crd: %v", err)
		}
		versions += len(derived)
	}
	fmt.Fprintf(log, "--crd: %d schemas from %d files\n", versions, len(paths))
	return nil
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

// publish prints the annotations, writes the report (to --output or to
// report), sets the outputs and the summary.
func publish(r *step.Run, report io.Writer, s Settings, versions []string, results []Result, findings []finding.Finding) error {
	totals := Count(results)
	for _, f := range findings {
		r.Platform.Annotate(r.Stdout, f)
	}
	write := func(w io.Writer) error {
		switch s.Format {
		case "json":
			return WriteJSON(w, versions, results)
		case "junit":
			return WriteJUnit(w, results, s.MissingSchemas == "fail")
		case "sarif":
			return finding.Report{Tool: "gitship-validate", Version: step.Version,
				InformationURI: "https://github.com/gitship/gitship", Rules: Rules(), Findings: findings}.Write(w, "sarif")
		}
		for _, f := range findings {
			fmt.Fprintln(w, f.String())
		}
		_, err := fmt.Fprintln(w, totals)
		return err
	}
	switch {
	case s.Output != "":
		if err := atomicfile.Write(s.Output, write); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		fmt.Fprintln(r.Stdout, totals)
		fmt.Fprintf(r.Stdout, "Report (%s) written to %s\n", s.Format, s.Output)
	case s.Format == "text":
		fmt.Fprintln(r.Stdout, totals)
	default:
		if err := write(report); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}

	invalid := CountFailing(results, s.MissingSchemas == "fail")
	for _, o := range []struct{ name, value string }{
		{"resources", fmt.Sprint(totals.Resources)},
		{"invalid", fmt.Sprint(invalid)},
		{"rendered-path", s.RenderTo},
		{"report", s.Output},
	} {
		if err := r.SetOutput(o.name, o.value); err != nil {
			return err
		}
	}
	return r.Summary(Summary(versions, results, findings))
}

// relTo makes path relative to the repository root when it is inside it,
// so findings name files the way the CI's annotations expect.
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
