package gitopspr

import (
	"context"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/kubeoptions"
	"github.com/gitship/gitship/shared/step"
)

// Settings are the gitops-pr step's inputs.
type Settings struct {
	GitOpsRepo, GitOpsBranch string
	App, Environment, Path   string

	kubeoptions.RenderFlags
	Images cli.StringSlice
	kubeoptions.ValidationFlags
	IncludeSource             bool
	Provider, APIURL          string
	PRRepository              string
	DescriptionFile           string
	Token, Username           string
	SSHKeyFile, SSHPassphrase string
	KnownHosts                string
	SigningKeyFile            string
	SigningPassphrase         string
	AuthorName, AuthorEmail   string
	Direct                    bool
	Title                     string
	Labels, Reviewers         cli.StringSlice
	Draft, AutoMerge          bool
	WaitMerged, WaitPoll      time.Duration
	RequireSignature          string
	RequireProvenance         string
}

// Step declares the gitops-pr step: the binary, the GitHub action, the
// Azure task and the docs are all made from it.
func Step() step.Step {
	s := &Settings{RenderFlags: kubeoptions.RenderFlags{PerEnvironment: true}}
	flags := append([]cli.Flag{
		&cli.StringFlag{Name: "gitops-repo", Destination: &s.GitOpsRepo,
			Usage: "GitOps repository URL: https://, ssh://, git@host:path or file://"},
		&cli.StringFlag{Name: "gitops-branch", Value: "main", Destination: &s.GitOpsBranch,
			Usage: "base branch Flux or Argo CD deploys from"},
		&cli.StringFlag{Name: "environment", Destination: &s.Environment,
			Usage: "environment to render and deploy, e.g. dev, staging, production; {environment} in paths becomes it"},
		&cli.StringFlag{Name: "app", Destination: &s.App,
			Usage: "app name in the branch, path and messages (default: the chart's or directory's name)"},
		&cli.StringFlag{Name: "path", Value: "clusters/{environment}/{app}", Destination: &s.Path,
			Usage: "managed path in the GitOps repository; gitship replaces all of it and nothing outside it"},
	}, s.RenderFlags.Flags()...)
	flags = append(flags,
		&cli.StringSliceFlag{Name: "image", Destination: &s.Images,
			Usage: "image to pin, REPOSITORY@sha256:... (publish's image output): every container image of that repository gets this digest (repeatable)"},
		&cli.StringFlag{Name: "require-signature", Destination: &s.RequireSignature,
			Usage: "refuse (exit 1) to pin an --image unless it is signed by this key, key=PATH to its PEM public key (cosign.pub): what publish --signing-key signed; or keyless by this identity, issuer=URL,subject-regexp=RE (or subject=),trusted-root=PATH to Sigstore's trusted_root.json; the pull request names the signer"},
		&cli.StringFlag{Name: "require-provenance", Destination: &s.RequireProvenance,
			Usage: "with --require-signature: refuse unless the image's signed SLSA provenance says it was built from this source, source=REPOSITORY,ref=BRANCH (either may be left out); the pull request names the commit"},
	)
	flags = append(flags, s.ValidationFlags.Flags()...)
	flags = append(flags,
		&cli.BoolFlag{Name: "include-source", Destination: &s.IncludeSource,
			Usage: "also commit the chart and values used, under PATH/.source"},
		&cli.StringFlag{Name: "provider", Value: "auto", Destination: &s.Provider,
			Usage: "pull request provider: auto (from the URL), github, azure or none (push the branch only)"},
		&cli.StringFlag{Name: "pr-repository", Destination: &s.PRRepository,
			Usage: "the repository's web URL on the provider, when --gitops-repo reaches it another way (a mirror, a proxy), e.g. https://github.com/acme/gitops"},
		&cli.StringFlag{Name: "api-url", Destination: &s.APIURL,
			Usage: "provider API URL: GitHub Enterprise's https://HOST/api/v3/ (default: the provider's public API)"},
		&cli.StringFlag{Name: "token", Destination: &s.Token,
			Usage: "token for git over HTTPS and the pull request API: a GitHub token, an Azure DevOps PAT or System.AccessToken"},
		&cli.StringFlag{Name: "username", Value: "x-access-token", Destination: &s.Username,
			Usage: "username sent with the token over HTTPS"},
		&cli.StringFlag{Name: "ssh-key-file", Destination: &s.SSHKeyFile,
			Usage: "SSH private key for ssh:// and git@ URLs (needs --known-hosts)"},
		&cli.StringFlag{Name: "ssh-key-passphrase", Destination: &s.SSHPassphrase,
			Usage: "passphrase of --ssh-key-file"},
		&cli.StringFlag{Name: "known-hosts", Destination: &s.KnownHosts,
			Usage: "known_hosts file the GitOps host's key is checked against"},
		&cli.StringFlag{Name: "signing-key-file", Destination: &s.SigningKeyFile,
			Usage: "key to sign the commit with: an armored OpenPGP private key or an SSH private key (Flux can verify either)"},
		&cli.StringFlag{Name: "signing-key-passphrase", Destination: &s.SigningPassphrase,
			Usage: "passphrase of --signing-key-file"},
		&cli.StringFlag{Name: "author-name", Destination: &s.AuthorName,
			Usage: "commit author (default: who started the run, else gitship)"},
		&cli.StringFlag{Name: "author-email", Destination: &s.AuthorEmail,
			Usage: "commit author's email (default: the run's, else gitship@users.noreply.github.com)"},
		&cli.BoolFlag{Name: "direct", Destination: &s.Direct,
			Usage: "commit to --gitops-branch directly, no pull request: for environments that deploy without review"},
		&cli.StringFlag{Name: "description-file", Destination: &s.DescriptionFile,
			Usage: "also write the pull request's title and description (Markdown) to this file: the review text where no provider runs (--provider none, local runs)"},
		&cli.StringFlag{Name: "title", Destination: &s.Title,
			Usage: "pull request title (default: Deploy APP to ENVIRONMENT: image)"},
		&cli.StringSliceFlag{Name: "label", Destination: &s.Labels,
			Usage: "pull request label (repeatable)"},
		&cli.StringSliceFlag{Name: "reviewer", Destination: &s.Reviewers,
			Usage: "pull request reviewer: a GitHub login or org/team, an Azure DevOps identity id (repeatable)"},
		&cli.BoolFlag{Name: "draft", Destination: &s.Draft,
			Usage: "open the pull request as a draft"},
		&cli.BoolFlag{Name: "auto-merge", Destination: &s.AutoMerge,
			Usage: "merge once checks and reviews pass: GitHub auto-merge, Azure DevOps auto-complete"},
		&cli.DurationFlag{Name: "wait-merged", Destination: &s.WaitMerged,
			Usage: "wait up to this long for the pull request to be merged (e.g. 2h), so the pipeline can go on to the next environment; fails if it is closed or the time runs out"},
		&cli.DurationFlag{Name: "wait-poll", Value: 15 * time.Second, Destination: &s.WaitPoll,
			Usage: "how often --wait-merged asks the provider"},
	)
	choices := s.ValidationFlags.Choices()
	choices["provider"] = []string{"auto", "github", "azure", "none"}
	return step.Step{
		Name:        "gitops-pr",
		Description: "Render the app for one environment, pin the published image by digest, validate, commit the manifests to the GitOps repository and open or update the pull request (or commit directly), so Flux or Argo CD deploys exactly what was reviewed.",
		Flags:       flags,
		Secrets:     []string{"token", "ssh-key-passphrase", "signing-key-passphrase"},
		Examples: map[string]string{"gitops-repo": "https://github.com/acme/gitops", "environment": "staging",
			"chart": "deploy/chart", "values": "deploy/values/{environment}.yaml", "image": "ghcr.io/acme/shop@sha256:<digest from publish>", "token": "secret"},
		Choices: choices,
		Outputs: []step.OutputSpec{
			{Name: "changed", Description: "true when the GitOps repository changed; false when it already had exactly this"},
			{Name: "commit", Description: "the commit on the branch (new, or the one that already had this content)"},
			{Name: "branch", Description: "the branch committed to: gitship/APP/ENVIRONMENT, or the base branch with --direct"},
			{Name: "pr-url", Description: "the pull request's page"},
			{Name: "pr-number", Description: "the pull request's number (Azure DevOps: its id)"},
			{Name: "merge-commit", Description: "the commit on the base branch that holds this change, what the cluster's GitOps controller applies and verify's --revision: the commit itself with --direct or when the base branch had this already, the pull request's merge commit after --wait-merged, empty while the pull request is open"},
		},
		Action: func(ctx context.Context, r *step.Run) error { return Run(ctx, *s, r) },
	}
}
