package gitopspr

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/google"

	"github.com/gitship/gitship/shared/signing"
	"github.com/gitship/gitship/shared/step"
)

// Signed is what --require-signature verified of one pinned image, for
// the pull request.
type Signed struct {
	Image    string // REPOSITORY@sha256:...
	Identity string // "key sha256:...", or a keyless subject and its issuer
	// Source, Ref and Commit are what the image's verified provenance
	// says it was built from, when it has one.
	Source, Ref, Commit string
}

// verifyImages checks every image to pin against --require-signature
// (and --require-provenance) before anything is rendered or pinned: an
// image that fails is refused (exit 1) naming what was expected and what
// was found. Registry credentials come from the Docker config (docker
// login) and Google's, as publish finds a promotion's source.
func verifyImages(ctx context.Context, s Settings, images []string, r *step.Run) ([]Signed, error) {
	if s.RequireSignature == "" && s.RequireProvenance == "" {
		return nil, nil
	}
	p, err := signing.ParsePolicy(s.RequireSignature, s.RequireProvenance)
	if err != nil {
		return nil, step.Usagef("%v", err)
	}
	if len(images) == 0 {
		return nil, step.Usagef("--require-signature checks the images to pin: give them with --image REPOSITORY@sha256:...")
	}
	c := signing.New(signing.Options{
		Keychain:  authn.NewMultiKeychain(authn.DefaultKeychain, google.Keychain),
		UserAgent: "gitship-gitops-pr/" + step.Version,
	})
	var out []Signed
	for _, img := range images {
		d, err := name.NewDigest(img, name.WeakValidation)
		if err != nil {
			return nil, step.Usagef("--image %q: want REPOSITORY@sha256:<digest>, the image output of publish: %v", img, err)
		}
		found, err := c.Verify(ctx, d, p)
		if err != nil {
			var verr *signing.VerifyError
			if errors.As(err, &verr) {
				return nil, fmt.Errorf("refusing to pin %s: %w: %w", img, err, step.ErrCheckFailed)
			}
			return nil, fmt.Errorf("verify %s: %w", img, err)
		}
		sig := Signed{Image: img, Identity: found.Identity}
		if found.Issuer != "" {
			sig.Identity += " (issuer " + found.Issuer + ")"
		}
		fmt.Fprintf(r.Stdout, "Verified %s: signed by %s\n", img, sig.Identity)
		if pr := found.Provenance; pr != nil {
			sig.Source, sig.Ref, sig.Commit = pr.Source, pr.Ref, pr.Commit
			fmt.Fprintf(r.Stdout, "  built from %s ref %s commit %s\n", pr.Source, pr.Ref, pr.Commit)
		}
		out = append(out, sig)
	}
	return out, nil
}
