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

	// Supply chain: signing and attesting what is published, and
	// verifying what is promoted (supplychain.go).
	SigningKey         string
	SigningKeyPassword string
	Keyless            bool
	FulcioURL          string
	RekorURL           string
	OIDCToken          string
	TlogUpload         bool
	Provenance         bool
	SBOM               string
	RequireSignature   string
	RequireProvenance  string
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
			&cli.StringFlag{Name: "signing-key", Destination: &s.SigningKey,
				Usage: "sign the published image (cosign's sha256-<hex>.sig) and its attestations with this private key: a cosign key file (cosign generate-key-pair), or a PEM ECDSA P-256 or Ed25519 key; a file path, or the PEM itself (from a secret variable)"},
			&cli.StringFlag{Name: "signing-key-password", Destination: &s.SigningKeyPassword,
				Usage: "password of an encrypted --signing-key (cosign's COSIGN_PASSWORD)"},
			&cli.BoolFlag{Name: "keyless", Destination: &s.Keyless,
				Usage: "sign keyless with Sigstore instead of --signing-key: an ephemeral key, a Fulcio certificate for the CI's OIDC identity (GitHub Actions: the job needs permissions: id-token: write), each signature recorded in Rekor; written as Sigstore bundles"},
			&cli.StringFlag{Name: "fulcio-url", Value: "https://fulcio.sigstore.dev", Destination: &s.FulcioURL,
				Usage: "with --keyless: the Fulcio that certifies the key"},
			&cli.StringFlag{Name: "rekor-url", Value: "https://rekor.sigstore.dev", Destination: &s.RekorURL,
				Usage: "with --keyless: the Rekor that records the signatures"},
			&cli.StringFlag{Name: "oidc-token", Destination: &s.OIDCToken,
				Usage: "with --keyless: the OIDC token (audience sigstore) Fulcio certifies the identity of, where the CI does not hand one out as GitHub Actions does (Cloud Build, Azure Pipelines)"},
			&cli.BoolFlag{Name: "tlog-upload", Destination: &s.TlogUpload,
				Usage: "record the signature in Rekor, Sigstore's transparency log: always with --keyless; with a key not supported yet, so off (verify with cosign's --insecure-ignore-tlog or a policy that does not need the log)"},
			&cli.BoolFlag{Name: "provenance", Value: true, Destination: &s.Provenance,
				Usage: "with --signing-key or --keyless: attach SLSA v1 provenance (an in-toto attestation in sha256-<hex>.att): the commit, the CI run, the base images"},
			&cli.StringFlag{Name: "sbom", Value: "spdx", Destination: &s.SBOM,
				Usage: "with --signing-key or --keyless: attach an SBOM of the image as an attestation: spdx (SPDX 2.3 JSON), cyclonedx or none"},
			&cli.StringFlag{Name: "require-signature", Destination: &s.RequireSignature,
				Usage: "with --promote-from: refuse (exit 1) unless the image is signed by this key, key=PATH to its PEM public key (cosign.pub), or keyless by this identity, issuer=URL,subject-regexp=RE (or subject=),trusted-root=PATH to Sigstore's trusted_root.json"},
			&cli.StringFlag{Name: "require-provenance", Destination: &s.RequireProvenance,
				Usage: "with --promote-from and --require-signature: refuse unless the image's signed SLSA provenance says it was built from this source, source=REPOSITORY,ref=BRANCH (either may be left out)"},
		},
		Secrets:  []string{"password", "signing-key-password", "oidc-token"},
		Choices:  map[string][]string{"sbom": {"spdx", "cyclonedx", "none"}},
		Examples: map[string]string{"image": "oci:.gitship/image", "repository": "ghcr.io/acme/shop", "username": "ci", "password": "secret"},
		Outputs: []step.OutputSpec{
			{Name: "digest", Description: "digest of the pushed manifest (sha256:...)"},
			{Name: "image", Description: "the image by digest, REPOSITORY@sha256:..., what gitops-pr pins"},
			{Name: "tags", Description: "the tagged references, one per line"},
			{Name: "signed", Description: "true when the image's signature is in the registry (signed with --signing-key, or copied verified with --require-signature); false otherwise"},
			{Name: "signature", Description: "where the signature is: REPOSITORY:sha256-<hex>.sig"},
			{Name: "attestations", Description: "where the attestations (provenance, SBOM) are: REPOSITORY:sha256-<hex>.att"},
		},
		Action: func(ctx context.Context, r *step.Run) error { return Run(ctx, *s, r) },
	}
}
