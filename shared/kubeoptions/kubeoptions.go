// Package kubeoptions holds the option sets of the steps that render and
// validate Kubernetes manifests (validate, gitops-pr), in the model of
// ko's pkg/commands/options: each set declares its flags once, with their
// usage text, binds them to a struct, and resolves them into the options
// of the library they drive (shared/render, shared/validation).
package kubeoptions

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/schema"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/validation"
)

// RenderFlags are the render sources: --chart, --values, --set,
// --release-name, --namespace, --kustomize and --manifests.
type RenderFlags struct {
	// PerEnvironment is a step that renders one app for one environment
	// (gitops-pr): it takes one --chart and one --kustomize (see One), and
	// paths may hold {environment}. The flags are the same kind either
	// way, so every wrapper reads them alike.
	PerEnvironment bool

	Charts, Kustomizations cli.StringSlice
	Values, Set, Manifests cli.StringSlice
	ReleaseName, Namespace string

	DependencyUpdate  bool
	DependencyTimeout time.Duration
}

// Flags declares the render flags, bound to r.
func (r *RenderFlags) Flags() []cli.Flag {
	several := " (repeatable)"
	values := "values file for the chart; later files override earlier ones, as with helm"
	releaseName := "Helm release name (default: release-name, as helm template)"
	kustomize := "Kustomize directory to build in-process, like kustomize build"
	manifests := "manifest file, directory or glob; - reads stdin"
	if r.PerEnvironment {
		several = " (one)"
		values += "; {environment} allowed, e.g. deploy/values/{environment}.yaml"
		releaseName = "Helm release name (default: --app)"
		kustomize = "Kustomize overlay to build instead of a chart, {environment} allowed, e.g. deploy/overlays/{environment}"
		manifests = "rendered manifests to commit instead, e.g. .gitship/rendered/{environment} from validate --render-to"
	}
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "chart", Destination: &r.Charts,
			Usage: "Helm chart directory to render in-process, like helm template" + several},
		&cli.StringSliceFlag{Name: "values", Destination: &r.Values, Usage: values + " (repeatable)"},
		&cli.StringSliceFlag{Name: "set", Destination: &r.Set,
			Usage: "chart value as key=value, helm --set syntax (repeatable)"},
		&cli.StringFlag{Name: "release-name", Destination: &r.ReleaseName, Usage: releaseName},
		&cli.StringFlag{Name: "namespace", Value: "default", Destination: &r.Namespace,
			Usage: "namespace the chart is rendered for (.Release.Namespace)"},
		&cli.StringSliceFlag{Name: "kustomize", Destination: &r.Kustomizations, Usage: kustomize + several},
		&cli.StringSliceFlag{Name: "manifests", Destination: &r.Manifests, Usage: manifests + " (repeatable)"},
		&cli.BoolFlag{Name: "dependency-update", Destination: &r.DependencyUpdate,
			Usage: "fetch the chart's dependencies before rendering, as helm dependency build does (the versions Chart.lock pins; " +
				"without a Chart.lock, as helm dependency update: the newest each constraint allows), from http(s) chart repositories " +
				"(index.yaml; a server on loopback works offline), file:// charts, and file:// directories holding index.yaml and the archives; " +
				"into memory: the chart directory is not changed, no charts/ or Chart.lock is written. No credentials are sent; " +
				"oci:// and helm repo add names are not fetched"},
		&cli.DurationFlag{Name: "dependency-timeout", Value: render.DefaultDependencyTimeout, Destination: &r.DependencyTimeout,
			Usage: "how long --dependency-update waits for each request to a chart repository"},
	}
}

// One returns the chart and the Kustomize directory of a PerEnvironment
// step, each empty when not given; a second value of either is a usage
// error naming the flag and both values.
func (r *RenderFlags) One() (chart, kustomize string, err error) {
	for _, f := range []struct {
		name string
		vals []string
		dst  *string
	}{{"chart", r.Charts.Value(), &chart}, {"kustomize", r.Kustomizations.Value(), &kustomize}} {
		switch len(f.vals) {
		case 0:
		case 1:
			*f.dst = f.vals[0]
		default:
			return "", "", step.Usagef("--%s given %d times (%q): this step renders one app, give one --%s",
				f.name, len(f.vals), f.vals, f.name)
		}
	}
	return chart, kustomize, nil
}

// Sources resolves the repeatable flags into what render.Sources renders
// (not for PerEnvironment: gitops-pr names its app and environment first).
func (r *RenderFlags) Sources() render.Sources {
	return render.Sources{Charts: r.Charts.Value(), Values: r.Values.Value(), Set: r.Set.Value(),
		ReleaseName: r.ReleaseName, Namespace: r.Namespace, Kustomize: r.Kustomizations.Value(),
		Manifests: r.Manifests.Value(), DependencyUpdate: r.DependencyUpdate, DependencyTimeout: r.DependencyTimeout}
}

// ValidationFlags are the validation settings: --crd,
// --kubernetes-version, --kubernetes-version-fallback, --strict and
// --missing-schemas.
type ValidationFlags struct {
	CRDs               cli.StringSlice
	KubernetesVersions cli.StringSlice
	VersionFallback    string // "none" or "nearest"
	Strict             bool
	MissingSchemas     string
}

// Flags declares the validation flags, bound to v.
func (v *ValidationFlags) Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "crd", Destination: &v.CRDs,
			Usage: "CustomResourceDefinition file or directory whose schemas validate custom resources; CRDs among the rendered resources are used too (repeatable)"},
		&cli.StringSliceFlag{Name: "kubernetes-version", Value: cli.NewStringSlice(schema.Latest()), Destination: &v.KubernetesVersions,
			Usage: fmt.Sprintf("Kubernetes version to validate against: 1.31 or 1.31.0 mean the embedded 1.31 patch (embedded: %s; default: the newest, %s); several check each resource against each (repeatable)",
				embeddedMinors(), schema.Latest()),
			Action: func(c *cli.Context, _ []string) error {
				return v.checkVersions(c.App.ErrWriter, len(c.StringSlice("schema-location")) > 0)
			}},
		&cli.StringFlag{Name: "kubernetes-version-fallback", Value: "none", Destination: &v.VersionFallback,
			Usage: "what a --kubernetes-version with no embedded schemas does: none refuses it (exit 2), nearest validates against the nearest embedded release, with a warning"},
		&cli.BoolFlag{Name: "strict", Value: true, Destination: &v.Strict,
			Usage: "fields the schema does not know are errors, as with the API server's strict field validation"},
		&cli.StringFlag{Name: "missing-schemas", Value: "fail", Destination: &v.MissingSchemas,
			Usage: "what a kind without a schema does: fail, warn or skip"},
	}
}

// Choices are the values the validation flags allow (step.Step.Choices).
func (v *ValidationFlags) Choices() map[string][]string {
	return map[string][]string{"missing-schemas": {"fail", "warn", "skip"}, "kubernetes-version-fallback": {"none", "nearest"}}
}

// embeddedMinors names the embedded range: "1.29 to 1.37".
func embeddedMinors() string {
	vs := schema.Versions()
	if len(vs) == 0 {
		return "none"
	}
	minor := func(v string) string { return v[:strings.LastIndex(v, ".")] }
	if len(vs) == 1 {
		return minor(vs[0])
	}
	return minor(vs[0]) + " to " + minor(vs[len(vs)-1])
}

// checkVersions refuses, before any work, a --kubernetes-version with no
// embedded schemas (unless the fallback or a schema location stands in)
// and tells how each differs from the release it is validated against:
// another patch of its minor (a note), the nearest release (a warning).
func (v *ValidationFlags) checkVersions(log io.Writer, schemaLocations bool) error {
	nearest := v.VersionFallback == "nearest"
	for _, k := range validation.KubernetesVersions(v.KubernetesVersions.Value()) {
		m, err := schema.Resolve(k, nearest)
		switch {
		case errors.Is(err, schema.ErrUnknownVersion) && schemaLocations:
			continue // the schema locations may know it
		case errors.Is(err, schema.ErrUnknownVersion):
			return step.Usagef("--kubernetes-version: %v; --kubernetes-version-fallback nearest validates against the nearest instead", err)
		case err != nil:
			return step.Usagef("--kubernetes-version: %v", err)
		case m.Nearest:
			fmt.Fprintf(log, "warning: %s (--kubernetes-version-fallback nearest)\n", m.Note())
		case m.Note() != "":
			fmt.Fprintf(log, "note: %s\n", m.Note())
		}
	}
	return nil
}

// Options resolves the flags into validation.Options: the versions
// cleaned (validation.KubernetesVersions) and, with
// --kubernetes-version-fallback nearest, one with no embedded schemas
// replaced by the nearest embedded release; the rest as given.
func (v *ValidationFlags) Options() validation.Options {
	versions := validation.KubernetesVersions(v.KubernetesVersions.Value())
	if v.VersionFallback == "nearest" {
		var out []string
		for _, k := range versions {
			if m, err := schema.Resolve(k, true); err == nil && m.Nearest {
				k = m.Embedded
			}
			if !slices.Contains(out, k) { // 1.38 and 1.39 both become the newest
				out = append(out, k)
			}
		}
		versions = out
	}
	return validation.Options{KubernetesVersions: versions,
		Strict: v.Strict, CRDFiles: v.CRDs.Value(), MissingSchemas: v.MissingSchemas}
}
