package publish

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/gitship/gitship/shared/imagesource"
	"github.com/gitship/gitship/shared/markdown"
	"github.com/gitship/gitship/shared/registry"
	"github.com/gitship/gitship/shared/step"
)

// Run pushes or promotes what the settings name and reports on r's
// platform. Bad input is a step.UsageError; a refused tag, a refused
// login or a registry that stays down fail the step.
func Run(ctx context.Context, s Settings, r *step.Run) error {
	switch {
	case s.Repository == "":
		return step.Usagef("--repository is required: where to publish, e.g. ghcr.io/acme/shop")
	case (s.Image == "") == (s.PromoteFrom == ""):
		return step.Usagef("give either --image (push what build made) or --promote-from (copy a published image)")
	case len(s.RequireLabel.Value()) > 0 && s.PromoteFrom == "":
		return step.Usagef("--require-label checks an image to promote: use it with --promote-from")
	case s.Password != "" && s.Username == "":
		return step.Usagef("--password needs --username")
	case s.Jobs < 1:
		return step.Usagef("--jobs %d: want 1 or more", s.Jobs)
	}
	opts := registry.Options{
		Credentials: registry.Credentials{Username: s.Username, Password: s.Password},
		Insecure:    s.Insecure, Jobs: s.Jobs, Overwrite: s.Overwrite,
		Log: r.Stdout, UserAgent: "gitship-publish/" + step.Version,
	}
	if s.CAFile != "" {
		pool, err := caPool(s.CAFile)
		if err != nil {
			return err
		}
		opts.RootCAs = pool
	}
	repo, err := registry.ParseRepository(s.Repository, s.Insecure)
	if err != nil {
		return step.Usagef("--repository %q: %v", s.Repository, err)
	}
	// The credentials given are the destination's; a promotion's source
	// registry finds its own in the Docker config.
	opts.Credentials.Registry = repo.RegistryStr()
	c := registry.New(opts)
	sc, err := readSupplyChain(ctx, s, r, c)
	if err != nil {
		return err
	}
	tags, err := Tags(r.Context(), s.Tags.Value(), s.Latest)
	if err != nil {
		return step.Usagef("%v", err)
	}

	var res registry.Result
	var sig signed
	var sigErr error
	if s.PromoteFrom != "" {
		src, err := c.ParseReference(s.PromoteFrom)
		if err != nil {
			return step.Usagef("--promote-from %q: %v", s.PromoteFrom, err)
		}
		require, err := labels(s.RequireLabel.Value())
		if err != nil {
			return err
		}
		sc.wait()
		if sc.keyErr != nil {
			// Promotion signs only what it verified; a key that does
			// not open stops it before anything is copied.
			return sc.keyErr
		}
		err = r.Group("Promote "+src.String()+" to "+repo.String(), func() error {
			// The digest verified is the digest copied: the tag is read
			// once.
			d, found, err := sc.verifyPromotion(ctx, src, r)
			if err != nil {
				return err
			}
			if res, err = c.Promote(ctx, d, repo, tags, require); err != nil {
				return err
			}
			sig, sigErr = sc.afterPromotion(ctx, d, repo.Digest(res.Digest.String()), found, r)
			return nil
		})
		if err != nil {
			return failure(err)
		}
	} else {
		a, cleanup, err := imagesource.Open(ctx, s.Image)
		defer cleanup()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, imagesource.ErrNotImage) {
				return step.Usagef("--image %v", err)
			}
			return fmt.Errorf("--image %w", err)
		}
		// With a signature to write, it is written once the image is
		// there by digest, while its tags are set; what it says is said
		// after the push's group, in its own. A key that did not open
		// is said then too: the image is still published, unsigned.
		var opts []registry.PushOption
		var signRef string
		if sc.signs() || sc.keyErr != nil {
			h, err := a.Digest()
			if err != nil {
				return fmt.Errorf("--image %w", err)
			}
			signRef = repo.Digest(h.String()).String()
			var ready <-chan ahead
			if sc.signs() {
				pctx, cancel := context.WithCancel(ctx)
				defer cancel()
				ready = sc.signAhead(pctx, repo.Digest(h.String()), prepare(pctx, s, r.Context(), a, repo))
			}
			sc.log.hold()
			opts = append(opts, registry.WhenUploaded(func(d name.Digest) {
				sc.wait()
				switch {
				case sc.keyErr != nil:
					sigErr = fmt.Errorf("the image is published unsigned: %w", sc.keyErr)
				case sc.signer != nil:
					sig, sigErr = sc.signPush(ctx, d, ready)
				}
			}))
		}
		err = r.Group("Push "+s.Image+" to "+repo.String(), func() error {
			res, err = c.Push(ctx, a, repo, tags, opts...)
			return err
		})
		if said := sc.log.release(); said != "" {
			if e := r.Group("Sign "+signRef, func() error {
				_, err := io.WriteString(r.Stdout, said)
				return err
			}); e != nil && err == nil {
				err = e
			}
		}
		if err != nil {
			return failure(err)
		}
	}

	st := c.Stats
	fmt.Fprintf(r.Stdout, "Published %s\n", res.Image)
	for _, t := range res.Tags {
		fmt.Fprintf(r.Stdout, "  %s\n", t)
	}
	for _, m := range res.Moved {
		fmt.Fprintf(r.Stdout, "Moved %s\n", m)
	}
	fmt.Fprintf(r.Stdout, "Uploaded %s; %d blobs mounted, %d already there; %d requests retried\n",
		bytes(st.BytesUploaded.Load()), st.BlobsMounted.Load(), st.BlobsPresent.Load(), st.Retries.Load())
	if sig.Signature != "" {
		fmt.Fprintf(r.Stdout, "Signed %s by %s: %s\n", res.Image, sig.Identity, sig.Signature)
	} else {
		fmt.Fprintf(r.Stdout, "Unsigned %s\n", res.Image)
	}
	for _, a := range strings.Split(sig.Attestations, "\n") {
		if a != "" {
			fmt.Fprintf(r.Stdout, "Attested in %s\n", a)
		}
	}
	outputs := map[string]string{"digest": res.Digest.String(), "image": res.Image, "tags": strings.Join(res.Tags, "\n"),
		"signed": fmt.Sprint(sig.Signature != ""), "signature": sig.Signature, "attestations": sig.Attestations}
	for name, value := range outputs {
		if err := r.SetOutput(name, value); err != nil {
			return err
		}
	}
	if err := r.Summary(summary(res, st, sig)); err != nil {
		return err
	}
	return sigErr
}

// failure makes a refused tag or label a failed check (exit 1) with its
// message as it is.
func failure(err error) error {
	if errors.Is(err, registry.ErrTagConflict) || errors.Is(err, registry.ErrLabelMismatch) ||
		errors.Is(err, registry.ErrDenied) || errors.Is(err, registry.ErrDigestChanged) {
		return fmt.Errorf("%w: %w", err, step.ErrCheckFailed)
	}
	if errors.Is(err, registry.ErrPlainHTTP) {
		return step.Usagef("%v", err)
	}
	return err
}

func labels(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, step.Usagef("--require-label %q: want KEY=VALUE", item)
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, nil
}

func caPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, step.Usagef("--ca-file: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, step.Usagef("--ca-file %s: no PEM certificate in it", file)
	}
	return pool, nil
}

func bytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func summary(res registry.Result, st *registry.Stats, sig signed) string {
	var b strings.Builder
	b.WriteString("### Published image\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Image | `%s` |\n", markdown.Cell(res.Image))
	for _, t := range res.Tags {
		fmt.Fprintf(&b, "| Tag | `%s` |\n", markdown.Cell(t))
	}
	fmt.Fprintf(&b, "| Uploaded | %s (%d blobs mounted, %d already there) |\n",
		bytes(st.BytesUploaded.Load()), st.BlobsMounted.Load(), st.BlobsPresent.Load())
	if sig.Signature == "" {
		b.WriteString("| Signature | unsigned |\n")
	} else {
		fmt.Fprintf(&b, "| Signature | `%s` by %s |\n", markdown.Cell(sig.Signature), markdown.Cell(sig.Identity))
	}
	for _, a := range strings.Split(sig.Attestations, "\n") {
		if a != "" {
			fmt.Fprintf(&b, "| Attestations | `%s` |\n", markdown.Cell(a))
		}
	}
	if pr := sig.Provenance; pr != nil {
		fmt.Fprintf(&b, "| Built from | %s %s at %s |\n", markdown.Cell(pr.Source), markdown.Cell(pr.Ref), markdown.Cell(pr.Commit))
	}
	return b.String()
}
