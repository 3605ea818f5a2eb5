package validate

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/kubeoptions"
	"github.com/gitship/gitship/shared/step"
)

// Settings are the validate step's inputs.
type Settings struct {
	kubeoptions.RenderFlags
	kubeoptions.ValidationFlags
	SchemaLocations cli.StringSlice
	SchemaCache     string
	Format          string
	Output          string
	RenderTo        string
}

// Step declares the validate step: the binary, the GitHub action, the
// Azure task and the docs are all made from it.
func Step() step.Step {
	s := &Settings{}
	choices := s.ValidationFlags.Choices()
	choices["format"] = []string{"text", "json", "junit", "sarif"}
	return step.Step{
		Name:        "validate",
		Description: "Render Helm charts (their crds/ too, as helm template --include-crds does), Kustomize directories and manifests, and validate every resource against the Kubernetes schemas (kubeconform, offline, CRD-aware), pointing each error at its template and field.",
		Flags: append(append(s.RenderFlags.Flags(), s.ValidationFlags.Flags()...),
			&cli.StringSliceFlag{Name: "schema-location", Destination: &s.SchemaLocations,
				Usage: "extra kubeconform schema location (URL or path template) tried after the embedded schemas; 'default' is kubeconform's repository (repeatable)"},
			&cli.StringFlag{Name: "schema-cache", Destination: &s.SchemaCache,
				Usage: "directory caching schemas downloaded from --schema-location (default: the user cache directory) and, when set, the schemas converted from CRDs, by content, so a later run does not convert them again"},
			&cli.StringFlag{Name: "format", Value: "text", Destination: &s.Format,
				Usage: "report format: text, json, junit or sarif"},
			&cli.StringFlag{Name: "output", Destination: &s.Output,
				Usage: "write the report to this file instead of stdout (e.g. validate.xml for a test-results task)"},
			&cli.StringFlag{Name: "render-to", Destination: &s.RenderTo,
				Usage: "write the rendered manifests here, one file per resource, for gitops-pr to reuse"},
		),
		Examples: map[string]string{"chart": "deploy/chart", "values": "deploy/values/staging.yaml"},
		Choices:  choices,
		Outputs: []step.OutputSpec{
			{Name: "resources", Description: "number of resources validated"},
			{Name: "invalid", Description: "number of resources that failed (invalid, unreadable, or without a schema under --missing-schemas fail)"},
			{Name: "rendered-path", Description: "directory of the rendered manifests, when --render-to is set"},
			{Name: "report", Description: "path of the report file, when --output is set"},
		},
		Action: func(ctx context.Context, r *step.Run) error { return Run(ctx, *s, r) },
	}
}
