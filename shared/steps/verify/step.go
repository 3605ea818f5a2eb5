package verify

import (
	"context"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/step"
)

// Settings are the verify step's inputs.
type Settings struct {
	Revision       string
	GitOpsRepo     string
	GitOpsToken    string
	Kustomizations cli.StringSlice
	HelmReleases   cli.StringSlice
	Applications   cli.StringSlice
	ArgoServer     string
	ArgoToken      string
	Workloads      cli.StringSlice
	Image          string
	Kubeconfig     string
	Context        string
	Timeout        time.Duration
	URLs           cli.StringSlice
	ExpectStatus   int
	ExpectBody     string
	ExpectJSON     cli.StringSlice
	Successes      int
	ProbeInterval  time.Duration
	ProbeTimeout   time.Duration
}

// Step declares the verify step: the binary, the GitHub action, the Azure
// task and the docs are all made from it.
func Step() step.Step {
	s := &Settings{}
	return step.Step{
		Name:        "verify",
		Description: "Wait until the cluster runs the GitOps commit: Flux Kustomizations and HelmReleases, Argo CD Applications and Deployments ready at that revision with the pinned image, or fail with the controller's message and events; then probe the application's URLs. Read-only, client-go, no kubectl.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "revision", Destination: &s.Revision,
				Usage: "the GitOps commit to wait for, gitops-pr's merge-commit output; objects must report it, or with --gitops-repo a descendant of it"},
			&cli.StringFlag{Name: "gitops-repo", Destination: &s.GitOpsRepo,
				Usage: "the GitOps repository (URL or local path), to accept a revision that descends from --revision; without it only the commit itself counts"},
			&cli.StringFlag{Name: "gitops-token", Destination: &s.GitOpsToken,
				Usage: "token to read --gitops-repo over HTTPS"},
			&cli.StringSliceFlag{Name: "flux-kustomization", Destination: &s.Kustomizations,
				Usage: "a Flux Kustomization, NAMESPACE/NAME, that must apply the revision and be Ready (repeatable)"},
			&cli.StringSliceFlag{Name: "flux-helmrelease", Destination: &s.HelmReleases,
				Usage: "a Flux HelmRelease, NAMESPACE/NAME, that must release the revision and be Ready (repeatable)"},
			&cli.StringSliceFlag{Name: "argocd-application", Destination: &s.Applications,
				Usage: "an Argo CD Application, NAMESPACE/NAME, that must be Synced to the revision and Healthy (repeatable)"},
			&cli.StringFlag{Name: "argocd-server", Destination: &s.ArgoServer,
				Usage: "read the Argo CD Applications through this Argo CD API server (https://argocd.example.com) instead of the Kubernetes API"},
			&cli.StringFlag{Name: "argocd-token", Destination: &s.ArgoToken,
				Usage: "an Argo CD API token for --argocd-server, of an account that may get the applications"},
			&cli.StringSliceFlag{Name: "workload", Destination: &s.Workloads,
				Usage: "a workload, NAMESPACE/Deployment/NAME, whose rollout must complete (with --image: its pods run that digest) (repeatable)"},
			&cli.StringFlag{Name: "image", Destination: &s.Image,
				Usage: "the image the workloads must run, by digest: REPOSITORY@sha256:... (publish's image output) or sha256:..."},
			&cli.StringFlag{Name: "kubeconfig", Destination: &s.Kubeconfig,
				Usage: "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account)"},
			&cli.StringFlag{Name: "context", Destination: &s.Context,
				Usage: "kubeconfig context (default: its current-context)"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Minute, Destination: &s.Timeout,
				Usage: "how long to wait for the deployment and the probes together"},
			&cli.StringSliceFlag{Name: "url", Destination: &s.URLs,
				Usage: "an HTTP(S) endpoint to probe once the deployment is ready (repeatable)"},
			&cli.IntFlag{Name: "expect-status", Value: 200, Destination: &s.ExpectStatus,
				Usage: "the status code every --url must answer"},
			&cli.StringFlag{Name: "expect-body", Destination: &s.ExpectBody,
				Usage: "a regular expression the body must match"},
			&cli.StringSliceFlag{Name: "expect-json", Destination: &s.ExpectJSON,
				Usage: "PATH=VALUE the JSON body must hold, the path dot-separated with list indexes, e.g. status=ok or checks.0.state=up (repeatable)"},
			&cli.IntFlag{Name: "probe-successes", Value: 3, Destination: &s.Successes,
				Usage: "right answers in a row each --url must give"},
			&cli.DurationFlag{Name: "probe-interval", Value: 2 * time.Second, Destination: &s.ProbeInterval,
				Usage: "time between probes; after a wrong answer it doubles, up to 30s"},
			&cli.DurationFlag{Name: "probe-timeout", Value: 10 * time.Second, Destination: &s.ProbeTimeout,
				Usage: "how long one probe may take"},
		},
		Secrets: []string{"gitops-token", "argocd-token"},
		// A URL's query and a JSON value may hold commas.
		LineLists: []string{"url", "expect-json"},
		Examples: map[string]string{"revision": "<merge-commit from gitops-pr>", "flux-kustomization": "flux-system/apps",
			"workload": "shop/Deployment/shop", "image": "ghcr.io/acme/shop@sha256:<digest from publish>", "url": "https://staging.shop.example.com/healthz"},
		Outputs: []step.OutputSpec{
			{Name: "revision", Description: "the revision the cluster runs: --revision, or the descendant of it the objects report"},
			{Name: "ready-at", Description: "when everything was ready (RFC 3339, UTC)"},
			{Name: "duration", Description: "how long the deployment took to be ready, from the step's start"},
			{Name: "probe-latency-p50", Description: "the median latency of the right answers to the probes"},
		},
		Action: func(ctx context.Context, r *step.Run) error { return Run(ctx, *s, r) },
	}
}
