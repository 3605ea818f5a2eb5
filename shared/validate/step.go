package validate

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/schema"
	"github.com/gitship/gitship/shared/step"
)

// Settings are the validate step's inputs.
type Settings struct {
	Charts             cli.StringSlice
	Values             cli.StringSlice
	Set                cli.StringSlice
	ReleaseName        string
	Namespace          string
	Kustomize          cli.StringSlice
	Manifests          cli.StringSlice
	CRDs               cli.StringSlice
	KubernetesVersions cli.StringSlice
	Strict             bool
	SchemaLocations    cli.StringSlice
	SchemaCache        string
	MissingSchemas     string
	Format             string
	Output             string
	RenderTo           string
}

// Step declares the validate step: the binary, the GitHub action, the
// Azure task and the docs are all made from it.
func Step() step.Step {
	s := &Settings{}
	return step.Step{
		Name:        "validate",
		Description: "Render Helm charts, Kustomize directories and manifests, and validate every resource against the Kubernetes schemas (kubeconform, offline, CRD-aware), pointing each error at its template and field.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "chart", Destination: &s.Charts,
				Usage: "Helm chart directory to render in-process, like helm template (repeatable)"},
			&cli.StringSliceFlag{Name: "values", Destination: &s.Values,
				Usage: "values file for the charts; later files override earlier ones, as with helm (repeatable)"},
			&cli.StringSliceFlag{Name: "set", Destination: &s.Set,
				Usage: "value for the charts as key=value, helm --set syntax (repeatable)"},
			&cli.StringFlag{Name: "release-name", Destination: &s.ReleaseName,
				Usage: "Helm release name (default: the chart's name)"},
			&cli.StringFlag{Name: "namespace", Value: "default", Destination: &s.Namespace,
				Usage: "namespace the charts are rendered for (.Release.Namespace)"},
			&cli.StringSliceFlag{Name: "kustomize", Destination: &s.Kustomize,
				Usage: "Kustomize directory to build in-process, like kustomize build (repeatable)"},
			&cli.StringSliceFlag{Name: "manifests", Destination: &s.Manifests,
				Usage: "manifest file, directory or glob; - reads stdin (repeatable)"},
			&cli.StringSliceFlag{Name: "crd", Destination: &s.CRDs,
				Usage: "CustomResourceDefinition file or directory whose schemas validate custom resources; CRDs among the rendered resources are used too (repeatable)"},
			&cli.StringSliceFlag{Name: "kubernetes-version", Value: cli.NewStringSlice(schema.Latest()), Destination: &s.KubernetesVersions,
				Usage: "Kubernetes version to validate against; several check each resource against each (repeatable)"},
			&cli.BoolFlag{Name: "strict", Value: true, Destination: &s.Strict,
				Usage: "fields the schema does not know are errors, as with the API server's strict field validation"},
			&cli.StringSliceFlag{Name: "schema-location", Destination: &s.SchemaLocations,
				Usage: "extra kubeconform schema location (URL or path template) tried after the embedded schemas; 'default' is kubeconform's repository (repeatable)"},
			&cli.StringFlag{Name: "schema-cache", Destination: &s.SchemaCache,
				Usage: "directory caching schemas downloaded from --schema-location (default: the user cache directory)"},
			&cli.StringFlag{Name: "missing-schemas", Value: "fail", Destination: &s.MissingSchemas,
				Usage: "what a kind without a schema does: fail, warn or skip"},
			&cli.StringFlag{Name: "format", Value: "text", Destination: &s.Format,
				Usage: "report format: text, json, junit or sarif"},
			&cli.StringFlag{Name: "output", Destination: &s.Output,
				Usage: "write the report to this file instead of stdout (e.g. validate.xml for a test-results task)"},
			&cli.StringFlag{Name: "render-to", Destination: &s.RenderTo,
				Usage: "write the rendered manifests here, one file per resource, for gitops-pr to reuse"},
		},
		Examples: map[string]string{"chart": "deploy/chart", "values": "deploy/values/staging.yaml"},
		Choices: map[string][]string{
			"missing-schemas": {"fail", "warn", "skip"},
			"format":          {"text", "json", "junit", "sarif"},
		},
		Outputs: []step.OutputSpec{
			{Name: "resources", Description: "number of resources validated"},
			{Name: "invalid", Description: "number of resources that failed (invalid, unreadable, or without a schema under --missing-schemas fail)"},
			{Name: "rendered-path", Description: "directory of the rendered manifests, when --render-to is set"},
			{Name: "report", Description: "path of the report file, when --output is set"},
		},
		Action: func(ctx context.Context, r *step.Run) error { return Run(ctx, *s, r) },
	}
}
