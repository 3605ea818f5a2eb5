package signing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types and annotations of cosign's tag scheme.
const (
	SimpleSigningMediaType  = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEMediaType           = "application/vnd.dsse.envelope.v1+json"
	InTotoPayloadType       = "application/vnd.in-toto+json"
	SignatureAnnotation     = "dev.cosignproject.cosign/signature"
	CertificateAnnotation   = "dev.sigstore.cosign/certificate"
	PredicateTypeAnnotation = "predicateType"
)

// Options configure a Client.
type Options struct {
	// Transport carries every request; nil is http.DefaultTransport.
	Transport http.RoundTripper
	// Keychain finds credentials; nil is authn.DefaultKeychain.
	Keychain authn.Keychain
	// UserAgent names the caller to the registry.
	UserAgent string
	// Log receives one line per thing written; nil discards.
	Log io.Writer
	// Reuse, when set, carries every call instead of the Client's own
	// pusher and puller: remote.Reuse of those of a registry client that
	// pushes to the same repositories, whose pings and tokens the signing
	// then shares (see registry.Client.Reuse).
	Reuse []remote.Option
}

// Client signs, attests, verifies and copies in registries.
type Client struct {
	opts Options
	// reuse carries every call (Options.Reuse, or a pusher and a puller
	// of the Client's own): a repository is pinged and authenticated once,
	// not once per call.
	reuse []remote.Option

	mu      sync.Mutex
	schemes map[string]Scheme      // by repository
	locks   map[string]*sync.Mutex // by tag, see lock
}

// lock serializes this Client's read-modify-writes of one tag: a .sig or
// .att image appended to, or the referrers tag that go-containerregistry
// rewrites for a registry without the referrers API. A signature and
// attestations may be written at the same time; two appends to one tag
// must not lose one of them.
func (c *Client) lock(tag string) (unlock func()) {
	c.mu.Lock()
	if c.locks == nil {
		c.locks = map[string]*sync.Mutex{}
	}
	m, ok := c.locks[tag]
	if !ok {
		m = &sync.Mutex{}
		c.locks[tag] = m
	}
	c.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// scheme is Scheme, asked once per repository.
func (c *Client) scheme(ctx context.Context, d name.Digest) (Scheme, error) {
	if s, ok := c.knownScheme(d); ok {
		return s, nil
	}
	s, err := c.Scheme(ctx, d)
	if err != nil {
		return s, err
	}
	c.remember(d, s)
	return s, nil
}

// knownScheme is the scheme asked already for d's repository.
func (c *Client) knownScheme(d name.Digest) (Scheme, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.schemes[d.Context().String()]
	return s, ok
}

func (c *Client) remember(d name.Digest, s Scheme) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.schemes == nil {
		c.schemes = map[string]Scheme{}
	}
	c.schemes[d.Context().String()] = s
}

// New makes a Client.
func New(o Options) *Client {
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	c := &Client{opts: o, reuse: o.Reuse}
	if len(c.reuse) == 0 {
		// Neither fails with these options, nor sends anything.
		pusher, _ := remote.NewPusher(c.base(context.Background())...)
		puller, _ := remote.NewPuller(c.base(context.Background())...)
		c.reuse = []remote.Option{remote.Reuse(pusher), remote.Reuse(puller)}
	}
	return c
}

// remote is the options of every go-containerregistry call.
func (c *Client) remote(ctx context.Context) []remote.Option {
	return append(c.base(ctx), c.reuse...)
}

func (c *Client) base(ctx context.Context) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.opts.Transport),
		remote.WithAuthFromKeychain(c.opts.Keychain),
	}
	if c.opts.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(c.opts.UserAgent))
	}
	return opts
}

// tagFor is cosign's tag for what is attached to digest d with suffix
// "sig" or "att": sha256-<hex>.sig in d's repository.
func tagFor(d name.Digest, suffix string) name.Tag {
	return d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1) + "." + suffix)
}

// SignatureTag is where Sign puts the signatures of d: sha256-<hex>.sig.
func SignatureTag(d name.Digest) name.Tag { return tagFor(d, "sig") }

// AttestationTag is where Attest puts the attestations of d:
// sha256-<hex>.att.
func AttestationTag(d name.Digest) name.Tag { return tagFor(d, "att") }

// read returns the image a tag names, nil when there is none.
func (c *Client) read(ctx context.Context, t name.Tag) (v1.Image, error) {
	img, err := remote.Image(t, c.remote(ctx)...)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && (te.StatusCode == http.StatusNotFound || hasCode(te, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode)) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", t, err)
	}
	return img, nil
}

func hasCode(te *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range te.Errors {
		for _, code := range codes {
			if d.Code == code {
				return true
			}
		}
	}
	return false
}

// emptyImage is the base of a .sig or .att image, as cosign makes it: an
// OCI manifest with an empty OCI config.
func emptyImage() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// layerOf is one layer of a .sig or .att image with what it holds.
type layerOf struct {
	desc    v1.Descriptor
	content []byte
}

// layers reads every layer of img with its descriptor (annotations).
func layers(img v1.Image) ([]layerOf, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	var out []layerOf
	for _, d := range m.Layers {
		l, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return nil, err
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		// A signature is a few hundred bytes, an SBOM a few MB: cap what a
		// hostile registry can make us hold.
		data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read layer %s: %w", d.Digest, err)
		}
		out = append(out, layerOf{desc: d, content: data})
	}
	return out, nil
}

// Resolve returns the digest ref names now: the tag's, or the digest
// itself. Verify and promote that digest, never the tag again: a tag can
// move between the check and the copy.
func (c *Client) Resolve(ctx context.Context, ref name.Reference) (name.Digest, error) {
	if d, ok := ref.(name.Digest); ok {
		return d, nil
	}
	desc, err := remote.Head(ref, c.remote(ctx)...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("read %s: %w", ref, err)
	}
	return ref.Context().Digest(desc.Digest.String()), nil
}
