package registry

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Options configure a Client.
type Options struct {
	// Credentials for the destination registry, from inputs; the Docker
	// config and Google's are tried after them, and for other registries.
	Credentials Credentials
	// Insecure allows plain HTTP and unverified TLS: loopback and tests.
	Insecure bool
	// RootCAs, when set, replace the system's roots: the system pool plus
	// a private registry's CA.
	RootCAs *x509.CertPool
	// Jobs bounds concurrent blob uploads; 0 is 4.
	Jobs int
	// Overwrite lets an immutable tag move to another digest.
	Overwrite bool
	// Log receives one line per phase; nil discards.
	Log io.Writer
	// UserAgent names the caller to the registry.
	UserAgent string

	retry *retryPolicy // tests shorten the waits
}

// Client pushes and promotes. Stats count what it sent.
type Client struct {
	opts  Options
	retry retryPolicy
	keys  *keychain
	tr    *retryTransport
	Stats *Stats

	pusher *remote.Pusher
	puller *remote.Puller
}

// New makes a Client.
func New(o Options) *Client {
	if o.Jobs <= 0 {
		o.Jobs = 4
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	policy := defaultRetry
	if o.retry != nil {
		policy = *o.retry
	}
	stats := &Stats{}
	c := &Client{opts: o, retry: policy, keys: newKeychain(o.Credentials), tr: newTransport(o.Insecure, o.RootCAs, stats, policy), Stats: stats}
	c.pusher, _ = remote.NewPusher(c.remote(context.Background())...)
	c.puller, _ = remote.NewPuller(c.remote(context.Background())...)
	return c
}

// Transport is the Client's HTTP stack for calls it does not make itself
// (publish's signing): its TLS (Insecure, RootCAs), its refusal of plain
// HTTP without Insecure, its connections, and its Stats, which then count
// what those calls send too. It does not retry: go-containerregistry's
// remote retries what goes through a transport it is given (unless told
// not to, as the Client's own calls are), and a request is retried in one
// layer only. A 429's or 503's Retry-After is still waited for before the
// answer goes back, so that the caller's retry comes after it.
func (c *Client) Transport() http.RoundTripper {
	once := c.retry
	once.attempts = 1
	return &retryTransport{inner: c.tr.inner, insecure: c.tr.insecure, retry: once, stats: c.tr.stats}
}

// Keychain finds credentials as the Client does: the inputs for their
// registry, the Docker config (DOCKER_CONFIG, relative to the working
// directory, the workspace), then Google's. It remembers where each
// registry's came from for Explain.
func (c *Client) Keychain() authn.Keychain { return c.keys }

// Reuse is the options that send a go-containerregistry call made for
// the Client's pushes (publish's signing) through its own pusher and
// puller: such a call pings and authenticates no repository the push has
// not already, and it retries as the Client's calls do. On a registry a
// round trip away that is two to four round trips less per repository.
func (c *Client) Reuse() []remote.Option {
	return []remote.Option{remote.Reuse(c.pusher), remote.Reuse(c.puller)}
}

// Explain words a registry's refusal (401, 403) in err, from a call made
// with Transport and Keychain, as the Client words its own: an *AuthError
// (errors.Is ErrDenied) naming the registry and where the credentials came
// from, or why there were none. Other errors come back as they are.
// registry is the host the call went to, for a refusal that does not
// say.
func (c *Client) Explain(err error, registry string) error {
	return c.keys.explain(err, registry)
}

// remote is the options of every go-containerregistry call.
func (c *Client) remote(ctx context.Context) []remote.Option {
	opts := c.base(ctx)
	if c.pusher != nil {
		opts = append(opts, remote.Reuse(c.pusher), remote.Reuse(c.puller))
	}
	return opts
}

func (c *Client) base(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.tr),
		remote.WithAuthFromKeychain(c.keys),
		remote.WithJobs(c.opts.Jobs),
		remote.WithUserAgent(c.opts.UserAgent),
		// One layer retries: our transport, each request it can send
		// again. go-containerregistry's per-request retries are off (no
		// status codes, and a predicate false for what the transport
		// retried); its whole-upload retry is left for a blob whose
		// streamed body the transport sent once. Both stop at
		// retry.attempts sends, so no request goes out more often.
		remote.WithRetryStatusCodes(),
		remote.WithRetryPredicate(c.retryUpload),
		remote.WithRetryBackoff(remote.Backoff{Duration: c.retry.base, Factor: 2, Jitter: 0.5, Steps: c.retry.attempts}),
	}
}

// retryUpload is go-containerregistry's retry predicate. It is asked
// after every failure, the last one too: its backoff's last step ends the
// loop with no retry. So a yes only owes a retry to the upload (see
// withUploadRetries), and the transport counts it in Stats.Retries when
// the upload's next request goes out.
func (c *Client) retryUpload(err error) bool {
	req, ok := retryUpload(err)
	if ok {
		if owed := uploadRetries(req.Context()); owed != nil {
			owed.Add(1)
		}
	}
	return ok
}

func nameOptions(insecure bool) []name.Option {
	if insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// ParseRepository reads "registry/path" for pushing to; insecure as in
// Options.
func ParseRepository(s string, insecure bool) (name.Repository, error) {
	if err := printable(s); err != nil {
		return name.Repository{}, err
	}
	return name.NewRepository(s, nameOptions(insecure)...)
}

// ParseReference reads "registry/path:tag" or "registry/path@sha256:...".
func ParseReference(s string, insecure bool) (name.Reference, error) {
	if err := printable(s); err != nil {
		return nil, err
	}
	return name.ParseReference(s, nameOptions(insecure)...)
}

// printable refuses what go-containerregistry lets through in a registry
// name (FuzzParseReference found ".\xb9/0"): a reference is printable
// ASCII without spaces, so it can go into a log line as it is.
func printable(s string) error {
	if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }); i >= 0 {
		return fmt.Errorf("%q: character %q at %d: an image reference is printable ASCII without spaces", s, []rune(s[i:])[0], i)
	}
	return nil
}

// ParseRepository is ParseRepository with the Client's Insecure.
func (c *Client) ParseRepository(s string) (name.Repository, error) {
	return ParseRepository(s, c.opts.Insecure)
}

// ParseReference is ParseReference with the Client's Insecure.
func (c *Client) ParseReference(s string) (name.Reference, error) {
	return ParseReference(s, c.opts.Insecure)
}
