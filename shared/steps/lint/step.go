package lint

import (
	"context"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/render/chartrepo"
	"github.com/gitship/gitship/shared/schema"
	"github.com/gitship/gitship/shared/step"
)

// Settings are the lint step's inputs.
type Settings struct {
	Paths             cli.StringSlice
	Exclude           cli.StringSlice
	Values            cli.StringSlice
	Targets           cli.StringSlice
	Ignore            cli.StringSlice
	Config            string
	KubernetesVersion string
	Format            string
	Output            string
	FailOn            string

	DependencyUpdate  bool
	DependencyTimeout time.Duration
}

// Step declares the lint step: the binary, the GitHub action, the Azure
// task and the docs are all made from it.
func Step() step.Step {
	s := &Settings{}
	return step.Step{
		Name:        "lint",
		Description: "Lint Dockerfiles (hadolint rules), Helm charts (once per values file) and YAML before anything is built.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "path", Value: cli.NewStringSlice("."), Destination: &s.Paths,
				Usage: "file or directory to lint; directories are searched for Dockerfiles, charts and YAML (repeatable)"},
			&cli.StringSliceFlag{Name: "exclude", Destination: &s.Exclude,
				Usage: "glob of repository paths to skip during discovery, e.g. 'vendor/**' (repeatable)"},
			&cli.StringSliceFlag{Name: "values", Destination: &s.Values,
				Usage: "Helm values file; each chart is linted once per file, e.g. one per environment (repeatable)"},
			&cli.StringSliceFlag{Name: "target", Destination: &s.Targets,
				Usage: "Dockerfile stage that later steps build (--target, --test-target): it must exist (repeatable)"},
			&cli.StringSliceFlag{Name: "ignore", Destination: &s.Ignore,
				Usage: "rule ID to ignore everywhere, e.g. DL3008 (repeatable)"},
			&cli.StringFlag{Name: "config", Destination: &s.Config,
				Usage: "hadolint config whose 'ignored', 'override', 'trustedRegistries', 'label-schema' and 'strict-labels' are honoured (default: .hadolint.yaml in the working directory, else at the repository root)"},
			&cli.StringFlag{Name: "kubernetes-version", Value: schema.Latest(), Destination: &s.KubernetesVersion,
				Usage: "Kubernetes version the charts are linted for (.Capabilities.KubeVersion)"},
			&cli.BoolFlag{Name: "dependency-update", Destination: &s.DependencyUpdate,
				Usage: "lint each chart with its dependencies fetched, as validate and gitops-pr --dependency-update render it (Chart.lock's versions, else the newest each constraint allows; http(s) chart repositories, file:// charts and file:// directories holding index.yaml), into a temporary copy of the chart: the chart directory is not changed"},
			&cli.DurationFlag{Name: "dependency-timeout", Value: chartrepo.DefaultTimeout, Destination: &s.DependencyTimeout,
				Usage: "how long --dependency-update waits for each request to a chart repository"},
			&cli.StringFlag{Name: "format", Value: "text", Destination: &s.Format,
				Usage: "report format: text, json or sarif"},
			&cli.StringFlag{Name: "output", Destination: &s.Output,
				Usage: "write the report to this file instead of stdout (e.g. lint.sarif for code scanning)"},
			&cli.StringFlag{Name: "fail-on", Value: "error", Destination: &s.FailOn,
				Usage: "fail when a finding is at or above this severity: error, warning, info or none"},
		},
		Choices: map[string][]string{
			"format":  {"text", "json", "sarif"},
			"fail-on": {"error", "warning", "info", "none"},
		},
		Outputs: []step.OutputSpec{
			{Name: "findings", Description: "number of findings"},
			{Name: "errors", Description: "number of error findings"},
			{Name: "warnings", Description: "number of warning findings"},
			{Name: "report", Description: "path of the report file, when --output is set"},
		},
		Action: func(ctx context.Context, r *step.Run) error { return Run(ctx, *s, r) },
	}
}
