package publish

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/step"
)

// Settings are the publish step's inputs.
type Settings struct {
	Image        string
	PromoteFrom  string
	Repository   string
	Tags         cli.StringSlice
	Latest       bool
	Overwrite    bool
	RequireLabel cli.StringSlice
	Username     string
	Password     string
	Insecure     bool
	CAFile       string
	Jobs         int
}

// Step declares the publish step: the binary, the GitHub action, the Azure
// task and the docs are all made from it.
func Step() step.Step {
	s := &Settings{}
	return step.Step{
		Name:        "publish",
		Description: "Push the built image to a registry tagged with its commit (and branch, release and extra tags), or promote a published image to another repository or registry by digest, with go-containerregistry: no Docker daemon, no half-moved tags.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "image", Destination: &s.Image,
				Usage: "image to push: oci:DIR (the OCI layout build writes), tarball:FILE (docker save) or docker:REF (an image in the Docker engine)"},
			&cli.StringFlag{Name: "promote-from", Destination: &s.PromoteFrom,
				Usage: "instead of --image: a published image (registry/repo@sha256:... or :tag) to copy by digest to --repository, without pulling it"},
			&cli.StringFlag{Name: "repository", Destination: &s.Repository,
				Usage: "destination, REGISTRY/PATH, e.g. ghcr.io/acme/shop or myacr.azurecr.io/shop"},
			&cli.StringSliceFlag{Name: "tag", Destination: &s.Tags,
				Usage: "extra tag, besides the full and short commit SHA, the branch (or pr-N) and the release tags of a git tag v1.2.3 (1.2.3, 1.2, 1); extra tags move (repeatable)"},
			&cli.BoolFlag{Name: "latest", Destination: &s.Latest,
				Usage: "also tag latest"},
			&cli.BoolFlag{Name: "overwrite", Destination: &s.Overwrite,
				Usage: "let commit-SHA and release tags move to another digest; by default such a push fails and moves no tag"},
			&cli.StringSliceFlag{Name: "require-label", Destination: &s.RequireLabel,
				Usage: "with --promote-from: refuse unless the image has this label, KEY=VALUE, e.g. org.opencontainers.image.revision=<commit SHA> (repeatable)"},
			&cli.StringFlag{Name: "username", Destination: &s.Username,
				Usage: "username for the destination registry (default: the Docker config, its credential helpers, then Google credentials)"},
			&cli.StringFlag{Name: "password", Destination: &s.Password,
				Usage: "password or token for --username"},
			&cli.BoolFlag{Name: "insecure", Destination: &s.Insecure,
				Usage: "allow plain HTTP and unverified TLS: loopback and test registries only"},
			&cli.StringFlag{Name: "ca-file", Destination: &s.CAFile,
				Usage: "PEM file of a CA to trust besides the system's, for a registry with a private CA"},
			&cli.IntFlag{Name: "jobs", Value: 4, Destination: &s.Jobs,
				Usage: "blobs uploaded at once"},
		},
		Secrets:  []string{"password"},
		Examples: map[string]string{"image": "oci:.gitship/image", "repository": "ghcr.io/acme/shop", "username": "ci", "password": "secret"},
		Outputs: []step.OutputSpec{
			{Name: "digest", Description: "digest of the pushed manifest (sha256:...)"},
			{Name: "image", Description: "the image by digest, REPOSITORY@sha256:..., what gitops-pr pins"},
			{Name: "tags", Description: "the tagged references, one per line"},
		},
		Action: func(ctx context.Context, r *step.Run) error { return Run(ctx, *s, r) },
	}
}
