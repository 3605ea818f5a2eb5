package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/provenance"
	"github.com/gitship/gitship/shared/registry"
	"github.com/gitship/gitship/shared/sbom"
	"github.com/gitship/gitship/shared/signing"
	"github.com/gitship/gitship/shared/step"
)

// supplyChain is what publish signs with and verifies against, read from
// the settings before anything is pushed.
type supplyChain struct {
	client *signing.Client
	// reg is the registry client whose transport and keychain the
	// signing client uses; it words their refusals.
	reg *registry.Client
	// signer signs; keyErr is why --signing-key could not be used: the
	// image is still pushed and tagged, reported unsigned, and the step
	// fails with keyErr. Both are set once opening has delivered (see
	// wait).
	signer signer
	keyErr error
	// opening delivers --signing-key's signer: decrypting a cosign key
	// (scrypt) takes a few hundred milliseconds of CPU, spent while the
	// image uploads rather than before.
	opening <-chan opened
	waited  sync.Once
	// policy is what a promoted image must satisfy; nil: nothing.
	policy *signing.Policy
	// log is where signing says what it wrote: held while the image's
	// tags are set at the same time, then said in a group of its own.
	log *heldLog
}

// heldLog passes writes through to w, except while held: then it keeps
// them until release.
type heldLog struct {
	mu   sync.Mutex
	w    io.Writer
	held bool
	buf  strings.Builder
}

func (h *heldLog) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held {
		return h.buf.Write(p)
	}
	return h.w.Write(p)
}

// hold keeps what is written from now on.
func (h *heldLog) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = true
}

// release passes writes through again and returns what was kept.
func (h *heldLog) release() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = false
	kept := h.buf.String()
	h.buf.Reset()
	return kept
}

// signed is what publish reports of the supply-chain part.
type signed struct {
	Signature    string
	Attestations string
	// Identity is who signed what was verified; Provenance what its
	// provenance says.
	Identity   string
	Provenance *signing.Provenance
}

// readSupplyChain checks the supply-chain settings (bad input is a
// usage error), reads the policy and opens the signing key. Signing,
// attesting, verifying and copying signatures go through reg's transport
// and keychain: the same TLS, plain-HTTP refusal and credentials (the
// inputs, DOCKER_CONFIG in the workspace, Google's) as the push, and
// refusals worded the same way.
func readSupplyChain(ctx context.Context, s Settings, r *step.Run, reg *registry.Client) (*supplyChain, error) {
	switch {
	case s.TlogUpload && !s.Keyless:
		return nil, step.Usagef("--tlog-upload: recording key signatures in Rekor is not supported yet (--keyless always records); verify with the public key (cosign verify --key cosign.pub --insecure-ignore-tlog)")
	case s.Keyless && s.SigningKey != "":
		return nil, step.Usagef("--keyless or --signing-key: not both")
	case (s.RequireSignature != "" || s.RequireProvenance != "") && s.PromoteFrom == "":
		return nil, step.Usagef("--require-signature and --require-provenance check an image to promote: use them with --promote-from")
	case (s.SigningKey != "" || s.Keyless) && s.PromoteFrom != "" && s.RequireSignature == "":
		return nil, step.Usagef("--signing-key or --keyless with --promote-from signs the promoted image: give --require-signature too, so that nothing is signed that was not verified")
	case s.SBOM != "" && s.SBOM != "none" && s.SBOM != "spdx" && s.SBOM != "cyclonedx":
		return nil, step.Usagef("--sbom %q: want spdx, cyclonedx or none", s.SBOM)
	}
	log := &heldLog{w: r.Stdout}
	sc := &supplyChain{reg: reg, log: log, client: signing.New(signing.Options{
		Transport: reg.Transport(),
		Keychain:  reg.Keychain(),
		UserAgent: "gitship-publish/" + step.Version,
		Log:       log,
		Reuse:     reg.Reuse(),
	})}
	if s.RequireSignature != "" || s.RequireProvenance != "" {
		p, err := signing.ParsePolicy(s.RequireSignature, s.RequireProvenance)
		if err != nil {
			return nil, step.Usagef("%v", err)
		}
		sc.policy = &p
	}
	switch {
	case s.SigningKey != "":
		data, where, err := readKey(s, r)
		if err != nil {
			sc.keyErr = err
			break
		}
		ch := make(chan opened, 1)
		go func() {
			k, err := openKey(data, where, s.SigningKeyPassword)
			ch <- opened{k, err}
		}()
		sc.opening = ch
	case s.Keyless:
		k, err := keyless(ctx, s, r, os.Getenv)
		if err != nil {
			sc.keyErr = err
		} else {
			sc.signer = keylessSigner{k}
		}
	}
	return sc, nil
}

// opened is --signing-key opened: its signer, or why not.
type opened struct {
	signer *signing.Signer
	err    error
}

// signs tells whether publish is to sign: a key or keyless, opened or
// not yet.
func (sc *supplyChain) signs() bool {
	return sc.signer != nil || sc.opening != nil
}

// wait sets signer or keyErr once --signing-key is open. It may be
// called from several goroutines: the first waits, the others wait for it.
func (sc *supplyChain) wait() {
	sc.waited.Do(func() {
		if sc.opening == nil {
			return
		}
		o := <-sc.opening
		if o.err != nil {
			sc.keyErr = o.err
			return
		}
		sc.signer = keySigner{o.signer}
	})
}

// signer is a key or keyless signing.
type signer interface {
	sign(ctx context.Context, c *signing.Client, d name.Digest) (signing.Written, error)
	attest(ctx context.Context, c *signing.Client, d name.Digest, statement []byte) (signing.Written, error)
	identity() string
}

type keySigner struct{ *signing.Signer }

func (k keySigner) sign(ctx context.Context, c *signing.Client, d name.Digest) (signing.Written, error) {
	return c.Sign(ctx, d, k.Signer)
}
func (k keySigner) attest(ctx context.Context, c *signing.Client, d name.Digest, st []byte) (signing.Written, error) {
	return c.Attest(ctx, d, st, k.Signer)
}
func (k keySigner) identity() string { return "key " + k.KeyID }

type keylessSigner struct{ *signing.KeylessSigner }

func (k keylessSigner) sign(ctx context.Context, c *signing.Client, d name.Digest) (signing.Written, error) {
	return c.SignKeyless(ctx, d, k.KeylessSigner)
}
func (k keylessSigner) attest(ctx context.Context, c *signing.Client, d name.Digest, st []byte) (signing.Written, error) {
	return c.AttestKeyless(ctx, d, st, k.KeylessSigner)
}
func (k keylessSigner) identity() string {
	sub, iss := k.Identity()
	return sub + " (issuer " + iss + ")"
}

// keyless makes the keyless signer: the OIDC token from --oidc-token, else
// from GitHub Actions' token endpoint, which env names.
func keyless(ctx context.Context, s Settings, r *step.Run, env func(string) string) (*signing.KeylessSigner, error) {
	token := s.OIDCToken
	if token == "" {
		var err error
		if token, err = signing.GitHubIDToken(ctx, nil, env("ACTIONS_ID_TOKEN_REQUEST_URL"), env("ACTIONS_ID_TOKEN_REQUEST_TOKEN")); err != nil {
			if errors.Is(err, signing.ErrNoIDToken) {
				return nil, step.Usagef("--keyless: %v", err)
			}
			return nil, fmt.Errorf("--keyless: %w", err)
		}
	}
	r.AddSecret(token)
	k, err := signing.NewKeylessSigner(signing.KeylessOptions{FulcioURL: s.FulcioURL, RekorURL: s.RekorURL, IDToken: token})
	if err != nil {
		return nil, step.Usagef("--keyless: %v", err)
	}
	return k, nil
}

// readKey reads --signing-key: the PEM itself when it starts with
// -----BEGIN (it is then a secret, masked from here on), else a file. where
// names it in errors.
func readKey(s Settings, r *step.Run) (data []byte, where string, err error) {
	data, where = []byte(s.SigningKey), "--signing-key"
	if !strings.HasPrefix(strings.TrimSpace(s.SigningKey), "-----BEGIN") {
		if data, err = os.ReadFile(s.SigningKey); err != nil {
			return nil, "", step.Usagef("--signing-key: %v", err)
		}
		return data, "--signing-key " + s.SigningKey, nil
	}
	for _, line := range strings.Split(s.SigningKey, "\n") {
		if l := strings.TrimSpace(line); len(l) > 8 && !strings.HasPrefix(l, "-----") {
			r.AddSecret(l)
		}
	}
	return data, where, nil
}

// openKey decrypts and parses the key readKey read.
func openKey(data []byte, where, password string) (*signing.Signer, error) {
	signer, err := signing.LoadSigner(data, []byte(password))
	switch {
	case errors.Is(err, signing.ErrKeyPassword):
		return nil, step.Usagef("%s: %v (--signing-key-password)", where, err)
	case err != nil:
		return nil, step.Usagef("%s: %v", where, err)
	}
	return signer, nil
}

// verifyPromotion resolves src to its digest and, with a policy, verifies
// it: a refusal is a failed check (exit 1) naming what was expected and
// found.
func (sc *supplyChain) verifyPromotion(ctx context.Context, src name.Reference, r *step.Run) (name.Digest, *signing.Found, error) {
	d, err := sc.client.Resolve(ctx, src)
	if err != nil {
		return d, nil, sc.explain(err, src)
	}
	if sc.policy == nil {
		return d, nil, nil
	}
	found, err := sc.client.Verify(ctx, d, *sc.policy)
	if err != nil {
		var verr *signing.VerifyError
		if errors.As(err, &verr) {
			return d, nil, fmt.Errorf("refusing to promote %s: %w: %w", src, err, step.ErrCheckFailed)
		}
		return d, nil, fmt.Errorf("verify %s: %w", src, sc.explain(err, src))
	}
	fmt.Fprintf(r.Stdout, "Verified %s: signed by %s\n", d, identity(found))
	if pr := found.Provenance; pr != nil {
		fmt.Fprintf(r.Stdout, "  built from %s ref %s commit %s by %s\n", pr.Source, pr.Ref, pr.Commit, pr.BuilderID)
	}
	return d, &found, nil
}

// afterPromotion copies src's signatures and attestations to dst and,
// when a key is given (and src was verified), signs dst too.
func (sc *supplyChain) afterPromotion(ctx context.Context, src, dst name.Digest, found *signing.Found, r *step.Run) (signed, error) {
	var out signed
	ws, err := sc.client.Copy(ctx, src, dst)
	err = sc.explain(err, src)
	switch {
	case err != nil && found == nil:
		// Nothing was asked of the signatures: a registry that will not
		// show them (a 403 for a tag it does not have) does not fail a
		// promotion that worked before signing existed.
		fmt.Fprintf(r.Stdout, "Signatures and attestations not copied: %v\n", err)
		ws = nil
	case err != nil:
		return out, fmt.Errorf("the image is promoted, its signatures not: %w: %w", err, step.ErrCheckFailed)
	}
	var atts []string
	for _, w := range ws {
		switch {
		case w.Attestation:
			atts = append(atts, w.Ref)
		case out.Signature == "":
			// The first is the image's own: an index's comes before its
			// platforms'.
			out.Signature = w.Ref
		}
	}
	out.Attestations = strings.Join(atts, "\n")
	if found != nil {
		out.Identity, out.Provenance = identity(*found), found.Provenance
	}
	if sc.signer != nil {
		w, err := sc.signer.sign(ctx, sc.client, dst)
		if err != nil {
			return out, fmt.Errorf("the image is promoted, not signed again: %w: %w", sc.explain(err, dst), step.ErrCheckFailed)
		}
		out.Signature = w.Ref
		out.Identity = sc.signer.identity()
	}
	if found == nil && sc.signer == nil {
		// Copied, not verified: publish does not vouch for them.
		out.Signature = ""
	}
	return out, nil
}

// attestation is one statement to attest: what it is, about which image.
type attestation struct {
	what string
	ref  name.Digest
	stmt []byte
}

// prepared is what attestations made.
type prepared struct {
	atts []attestation
	note string // said once the push is done
	err  error
}

// prepare makes the statements to attest for a, to be pushed to repo: its
// provenance (on the artifact) and its SBOM (on the artifact for one
// image; on each platform's image for an index, as each platform has its
// own contents). They come from the local artifact alone, so publish makes
// them while the image uploads: scanning a 200 MB image for its SBOM then
// costs no time of its own.
func prepare(ctx context.Context, s Settings, c ci.Context, a registry.Artifact, repo name.Repository) <-chan prepared {
	ch := make(chan prepared, 1)
	go func() {
		var p prepared
		p.atts, p.note, p.err = attestations(ctx, s, c, a, repo)
		ch <- p
	}()
	return ch
}

func attestations(ctx context.Context, s Settings, c ci.Context, a registry.Artifact, repo name.Repository) ([]attestation, string, error) {
	h, err := a.Digest()
	if err != nil {
		return nil, "", err
	}
	d := repo.Digest(h.String())
	var atts []attestation
	var note string
	if s.Provenance {
		stmt, n, err := provenanceStatement(s, c, d)
		if err != nil {
			return nil, "", fmt.Errorf("provenance: %w", err)
		}
		note = n
		atts = append(atts, attestation{"provenance", d, stmt})
	}
	if s.SBOM != "" && s.SBOM != "none" {
		f, err := sbom.ParseFormat(s.SBOM)
		if err != nil {
			return nil, "", step.Usagef("--sbom: %v", err)
		}
		imgs, err := a.Images()
		if err != nil {
			return nil, "", fmt.Errorf("SBOM: %w", err)
		}
		for _, img := range imgs {
			h, err := img.Digest()
			if err != nil {
				return nil, "", err
			}
			stmt, err := sbom.Statement(ctx, img, provenance.Subject{Name: repo.Name(), Digest: h}, f, sbom.WithToolVersion(step.Version))
			if err != nil {
				return nil, "", fmt.Errorf("SBOM: %w", err)
			}
			atts = append(atts, attestation{"SBOM", repo.Digest(h.String()), stmt})
		}
	}
	return atts, note, nil
}

// ahead is what is made while the image uploads: the statements to attest
// and, with a key in the tag scheme, the signature and attestations
// themselves, their blobs uploaded (see signing.Staged).
type ahead struct {
	prepared
	staged *signing.Staged
}

// signAhead makes, while the image (digest d) uploads, what signPush
// writes after: once the statements are ready and the key is open, it
// stages the signature and attestations. Where they cannot be staged (a
// registry with the referrers API, keyless signing, or any error, which
// signPush then meets again and reports) signPush does it all after the
// push.
func (sc *supplyChain) signAhead(ctx context.Context, d name.Digest, ready <-chan prepared) <-chan ahead {
	ch := make(chan ahead, 1)
	go func() {
		a := ahead{prepared: <-ready}
		sc.wait()
		if k, ok := sc.signer.(keySigner); ok && a.err == nil {
			atts := make([]signing.Attestation, len(a.atts))
			for i, at := range a.atts {
				atts[i] = signing.Attestation{Image: at.ref, Statement: at.stmt, What: at.what}
			}
			a.staged, _ = sc.client.Stage(ctx, d, k.Signer, atts)
		}
		ch <- a
	}()
	return ch
}

// signPush signs the pushed image d and attests what signAhead made: it
// writes the manifests signAhead staged, or else signs and attests now.
func (sc *supplyChain) signPush(ctx context.Context, d name.Digest, ready <-chan ahead) (out signed, err error) {
	a := <-ready
	if a.note != "" {
		fmt.Fprintln(sc.log, a.note)
	}
	if a.staged != nil && a.staged.Digest == d {
		return sc.commit(ctx, a.staged)
	}
	// The signature and the attestations go to different tags (or are
	// referrers of their own), so they are written at the same time; the
	// signing client serializes what appends to one tag.
	var w signing.Written
	var signErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, signErr = sc.signer.sign(ctx, sc.client, d)
	}()
	atts, attErr := sc.attest(ctx, a.prepared)
	<-done
	out.Attestations = strings.Join(atts, "\n")
	if signErr != nil {
		return out, fmt.Errorf("the image is published unsigned: %w: %w", sc.explain(signErr, d), step.ErrCheckFailed)
	}
	out.Signature, out.Identity = w.Ref, sc.signer.identity()
	return out, attErr
}

// commit writes what signAhead staged.
func (sc *supplyChain) commit(ctx context.Context, st *signing.Staged) (out signed, err error) {
	written, whats, errs := st.Commit(ctx)
	var atts []string
	var attErrs []error
	for i, w := range written {
		switch {
		case i == 0 && errs[0] != nil:
			err = fmt.Errorf("the image is published unsigned: %w: %w", sc.explain(errs[0], st.Digest), step.ErrCheckFailed)
		case i == 0:
			out.Signature, out.Identity = w.Ref, sc.signer.identity()
		case errs[i] != nil:
			attErrs = append(attErrs, fmt.Errorf("the image is signed, with no %s: %w: %w", whats[i], sc.explain(errs[i], st.Digest), step.ErrCheckFailed))
		default:
			atts = append(atts, w.Ref)
		}
	}
	out.Attestations = strings.Join(atts, "\n")
	if err != nil {
		return out, err
	}
	return out, errors.Join(attErrs...)
}

// attest writes the attestations p holds, all at once, and returns where
// they are, in p's order.
func (sc *supplyChain) attest(ctx context.Context, p prepared) ([]string, error) {
	if p.err != nil {
		return nil, fmt.Errorf("the image is signed, with no attestations: %w", p.err)
	}
	refs := make([]string, len(p.atts))
	errs := make([]error, len(p.atts))
	var wg sync.WaitGroup
	for i, a := range p.atts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := sc.signer.attest(ctx, sc.client, a.ref, a.stmt)
			if err != nil {
				errs[i] = fmt.Errorf("the image is signed, with no %s: %w: %w", a.what, sc.explain(err, a.ref), step.ErrCheckFailed)
				return
			}
			refs[i] = w.Ref
		}()
	}
	wg.Wait()
	var atts []string
	for _, ref := range refs {
		if ref != "" && !slices.Contains(atts, ref) {
			atts = append(atts, ref)
		}
	}
	return atts, errors.Join(errs...)
}

// provenanceStatement is the SLSA provenance of d, with what the build
// step recorded in an oci: layout, and a note when it recorded nothing.
func provenanceStatement(s Settings, c ci.Context, d name.Digest) ([]byte, string, error) {
	h, err := hash(d)
	if err != nil {
		return nil, "", err
	}
	in := provenance.Input{
		Subject: provenance.Subject{Name: d.Context().Name(), Digest: h},
		CI:      c,
		Version: step.Version,
	}
	var note string
	if dir, ok := strings.CutPrefix(s.Image, "oci:"); ok {
		info, err := provenance.ReadBuildInfo(dir)
		switch {
		case err == nil:
			in.Build = &info
		case errors.Is(err, provenance.ErrNoBuildInfo):
			note = fmt.Sprintf("No build record in %s: the provenance names no base images and no build times", dir)
		default:
			return nil, "", err
		}
	}
	stmt, err := provenance.Statement(in)
	return stmt, note, err
}

// explain adds to a registry's refusal (401, 403) of a signing call what
// the registry client says of its own: which registry, and where the
// credentials came from or why there were none. Only a registry's answer
// is explained: a Fulcio or Rekor refusal of a keyless signing is not
// about registry credentials.
func (sc *supplyChain) explain(err error, ref name.Reference) error {
	var te *transport.Error
	if !errors.As(err, &te) || (te.StatusCode != http.StatusUnauthorized && te.StatusCode != http.StatusForbidden) {
		return err
	}
	var auth *registry.AuthError
	if errors.As(sc.reg.Explain(err, ref.Context().RegistryStr()), &auth) {
		return fmt.Errorf("%v: %w", err, auth)
	}
	return err
}

func hash(d name.Digest) (v1.Hash, error) { return v1.NewHash(d.DigestStr()) }

// identity is who signed what Verify found: the key, or a keyless
// certificate's subject and issuer.
func identity(f signing.Found) string {
	if f.Issuer != "" {
		return f.Identity + " (issuer " + f.Issuer + ")"
	}
	return f.Identity
}
