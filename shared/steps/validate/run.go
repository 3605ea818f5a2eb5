package validate

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"

	"github.com/gitship/gitship/shared/atomicfile"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/schema"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/validation"
)

// Run renders what the settings name, validates it and reports on r's
// platform. It returns an error wrapping step.ErrCheckFailed when a
// resource fails, and a step.UsageError for bad input.
func Run(ctx context.Context, s Settings, r *step.Run) error {
	// A run is short and its garbage is parsed YAML: collecting less often
	// saves a fifth of the CPU on large trees, for memory it gives back at
	// exit. Inputs are capped (render.MaxFileSize, alias limits).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	if len(s.Charts.Value())+len(s.Kustomizations.Value())+len(s.Manifests.Value()) == 0 {
		return step.Usagef("nothing to validate: give --chart, --kustomize or --manifests")
	}
	opts := s.ValidationFlags.Options()
	versions := opts.KubernetesVersions
	// A directory --render-to must not replace is refused before the work.
	if s.RenderTo != "" {
		if err := render.CheckTree(s.RenderTo); err != nil {
			return validation.InputError(fmt.Errorf("--render-to: %w", err))
		}
	}
	report, r := r.ForReport(s.Format, s.Output)
	root := r.Context().Workspace

	cache := s.SchemaCache
	if cache == "" && len(s.SchemaLocations.Value()) > 0 {
		if dir, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(dir, "gitship", "schemas")
		}
	}
	opts.SchemaLocations, opts.CacheDir = s.SchemaLocations.Value(), cache
	// Only where the input says so: nothing is written outside the
	// workspace by default.
	opts.CRDCache = s.SchemaCache
	opts.Root, opts.Log, opts.Announce = root, r.Stdout, true

	// Helm renders on one core: the schemas of the kinds the charts'
	// templates name compile on the other meanwhile. A validator that
	// cannot be made is reported after the render, by validation.Run, as
	// without charts.
	var v *validation.Validator
	stop := func() {}
	if charts := s.Charts.Value(); len(charts) > 0 {
		if made, err := validation.New(opts); err == nil {
			v = made
			defer v.Close()
			stop = v.Warm(func() []render.Kind {
				var kinds []render.Kind
				for _, c := range charts {
					kinds = append(kinds, render.TemplateKinds(c)...)
				}
				return kinds
			})
		}
	}

	var resources []render.Resource
	err := r.Group("Render", func() error {
		defer stop()
		var err error
		src := s.RenderFlags.Sources()
		src.Stdin = os.Stdin
		// A document that is no object is reported with the others'
		// results, as kubeconform does, rather than ending the run.
		src.KeepUnreadable = true
		// A chart renders for each version: .Capabilities differ.
		resources, err = src.RenderFor(ctx, Capabilities(versions), r.Stdout)
		if err != nil {
			return validation.InputError(err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var out validation.Outcome
	if v != nil {
		out, err = v.Run(ctx, resources, r)
	} else {
		out, err = validation.Run(ctx, opts, resources, r)
	}
	if err != nil {
		return err
	}
	out.RelativeTo(root)
	results := out.Results
	for i := range results {
		resources[i] = results[i].Resource
	}

	findings := out.Findings()
	if err := publish(r, report, s, versions, results, findings); err != nil {
		return err
	}
	unreadable := 0
	for _, r := range resources {
		if r.Err != nil {
			unreadable++
		}
	}
	if s.RenderTo != "" && unreadable > 0 {
		// The tree is for gitops-pr to commit: one without some documents
		// would deploy less than the sources say.
		fmt.Fprintf(r.Stdout, "Rendered manifests not written to %s: %d documents are not Kubernetes objects\n", s.RenderTo, unreadable)
	} else if s.RenderTo != "" {
		// The tree is the render for the first version, the one gitops-pr
		// renders for.
		var tree []render.Resource
		for _, res := range resources {
			if res.Versions == nil || slices.Contains(res.Versions, versions[0]) {
				tree = append(tree, res)
			}
		}
		files, err := render.WriteTree(s.RenderTo, tree)
		if err != nil {
			return validation.InputError(fmt.Errorf("--render-to: %w", err))
		}
		fmt.Fprintf(r.Stdout, "Rendered manifests written to %s (%d files)\n", s.RenderTo, len(files))
	}
	if n := out.Failing(); n > 0 {
		return fmt.Errorf("%d of %d resources failed validation: %w", n, len(results), step.ErrCheckFailed)
	}
	return nil
}

// publish prints the annotations, writes the report (to --output or to
// report), sets the outputs and the summary.
func publish(r *step.Run, report io.Writer, s Settings, versions []string, results []validation.Result, findings []finding.Finding) error {
	totals := validation.Count(results)
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
				InformationURI: "https://github.com/gitship/gitship", Rules: validation.Rules(), Findings: findings}.Write(w, "sarif")
		}
		return WriteText(w, results, findings)
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

	invalid := validation.CountFailing(results, s.MissingSchemas == "fail")
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

// Capabilities are what a chart sees of each Kubernetes version: the
// version, and as .Capabilities.APIVersions the group/versions and
// group/version/kinds whose schemas gitship embeds for it, as a cluster of
// that version would list them. A version without embedded schemas (one a
// --schema-location serves) keeps Helm's default API versions.
func Capabilities(versions []string) []render.Capabilities {
	caps := make([]render.Capabilities, len(versions))
	for i, v := range versions {
		caps[i].KubeVersion = v
		c, err := schema.Lookup(v)
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		for _, gvk := range c.Kinds() {
			for _, s := range []string{gvk.APIVersion(), gvk.APIVersion() + "/" + gvk.Kind} {
				if !seen[s] {
					seen[s] = true
					caps[i].APIVersions = append(caps[i].APIVersions, s)
				}
			}
		}
	}
	return caps
}
