package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrPlainHTTP is returned when a registry would be reached over plain
// HTTP and the caller did not allow it.
var ErrPlainHTTP = errors.New("plain HTTP is not allowed without --insecure")

// Stats count what a run sent: the numbers a reviewer of a promotion
// wants (was anything re-uploaded?) and a benchmark compares.
type Stats struct {
	Requests      atomic.Int64
	Retries       atomic.Int64
	BytesUploaded atomic.Int64 // request bodies of blob uploads
	BlobsMounted  atomic.Int64 // cross-repository mounts the registry accepted
	BlobsPresent  atomic.Int64 // blobs a HEAD found already there
}

// retryPolicy is how often and how long to retry a request.
type retryPolicy struct {
	attempts int           // in all, the first one included
	base     time.Duration // first backoff; doubles each time, with jitter
	max      time.Duration // cap on one wait, Retry-After included
}

var defaultRetry = retryPolicy{attempts: 6, base: 200 * time.Millisecond, max: 30 * time.Second}

// retryTransport is the bottom of the HTTP stack, under
// go-containerregistry's auth. It is the one layer that retries a
// request: go-containerregistry's own retries are turned off (see
// Client.base), except that it starts a blob's upload again when the
// request that failed carried a streamed body this transport could not send
// twice (errStreamed). Either way a request goes out at most
// retry.attempts times.
type retryTransport struct {
	inner    http.RoundTripper
	insecure bool
	retry    retryPolicy
	stats    *Stats
}

func newTransport(insecure bool, roots *x509.CertPool, stats *Stats, policy retryPolicy) *retryTransport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 16
	switch {
	case insecure:
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --insecure asks for it
	case roots != nil:
		base.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	return &retryTransport{inner: base, insecure: insecure, retry: policy, stats: stats}
}

// retryable answers are the ones a registry gives when it is busy or
// briefly broken.
func retryable(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !t.insecure {
		return nil, fmt.Errorf("%s: %w", req.URL.Host, ErrPlainHTTP)
	}
	// A body that cannot be sent again (a blob streamed from its source)
	// gets one try here; go-containerregistry retries the whole upload.
	replayable := replayable(req)
	// A whole-upload retry the predicate granted is made when the upload
	// sends its next request: count it then.
	if owed := uploadRetries(req.Context()); owed != nil && req.Context().Err() == nil && owed.take() {
		t.stats.Retries.Add(1)
	}
	if h := conditionFrom(req.Context()); h != nil && req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/manifests/") {
		req = req.Clone(req.Context())
		for k, v := range h {
			req.Header[k] = v
		}
	}
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		counted := &countingBody{ReadCloser: r.Body}
		if r.Body != nil && r.Body != http.NoBody && isBlobUpload(r) {
			if r.ContentLength > 0 {
				counted.n = r.ContentLength // body left as is: a file goes by sendfile
			} else {
				r = r.Clone(r.Context())
				r.Body = counted
			}
		}
		t.stats.Requests.Add(1)
		resp, err := t.inner.RoundTrip(r)
		last := attempt >= t.retry.attempts
		switch {
		case err != nil:
			if !replayable && transient(err) && req.Context().Err() == nil {
				return nil, &streamedError{err: err, req: r}
			}
			if !replayable || last || req.Context().Err() != nil || !transient(err) {
				return nil, err
			}
		case retryable(resp.StatusCode):
			wait, _ := retryAfter(resp.Header.Get("Retry-After"), t.retry.max)
			if !replayable || last {
				// Let the caller's retry come after the registry's wait.
				if wait > 0 {
					_ = sleep(req.Context(), wait)
				}
				return resp, nil
			}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			t.stats.Retries.Add(1)
			if wait == 0 {
				wait = t.backoff(attempt)
			}
			if err := sleep(req.Context(), wait); err != nil {
				return nil, err
			}
			continue
		default:
			t.record(r, resp, counted.n)
			return resp, nil
		}
		t.stats.Retries.Add(1)
		if err := sleep(req.Context(), t.backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

// record counts what a successful exchange did.
func (t *retryTransport) record(req *http.Request, resp *http.Response, sent int64) {
	if resp.StatusCode >= 300 {
		return
	}
	switch {
	case sent > 0:
		t.stats.BytesUploaded.Add(sent)
	case req.Method == http.MethodPost && req.URL.Query().Get("mount") != "" && resp.StatusCode == http.StatusCreated:
		t.stats.BlobsMounted.Add(1)
	case req.Method == http.MethodHead && strings.Contains(req.URL.Path, "/blobs/sha256:"):
		t.stats.BlobsPresent.Add(1)
	}
}

// replayable requests have no body or one the transport can get again.
func replayable(r *http.Request) bool {
	return r.Body == nil || r.Body == http.NoBody || r.GetBody != nil
}

// streamedError is a transient failure of a request whose body could not
// be sent again: the one case go-containerregistry's whole-upload retry
// handles (retryUpload).
type streamedError struct {
	err error
	req *http.Request
}

func (e *streamedError) Error() string { return e.err.Error() }
func (e *streamedError) Unwrap() error { return e.err }

// retryUpload is go-containerregistry's retry predicate: true only for a
// request this transport sent once because its streamed body could not be
// replayed, so that no request is retried in two layers. It returns that
// request.
func retryUpload(err error) (*http.Request, bool) {
	var se *streamedError
	if errors.As(err, &se) {
		return se.req, true
	}
	var te *transport.Error
	if errors.As(err, &te) && te.Request != nil && !replayable(te.Request) && retryable(te.StatusCode) {
		return te.Request, true
	}
	return nil, false
}

// owedRetries are the whole-upload retries granted and not yet made.
type owedRetries struct{ atomic.Int64 }

// take counts one owed retry made, if one is owed.
func (o *owedRetries) take() bool {
	for {
		n := o.Load()
		if n <= 0 {
			return false
		}
		if o.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

type uploadRetriesKey struct{}

// withUploadRetries scopes the whole-upload retries owed to one upload
// (one remote.Write): a retry granted after the last failure is never
// taken, and goes when the upload returns. With concurrent blobs, another
// blob's request may take a retry that is made a moment later (the count
// is the same), or, in the moment before a failed write cancels its other
// blobs, the one granted after the last failure (one too many).
func withUploadRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, uploadRetriesKey{}, &owedRetries{})
}

func uploadRetries(ctx context.Context) *owedRetries {
	o, _ := ctx.Value(uploadRetriesKey{}).(*owedRetries)
	return o
}

type conditionKey struct{}

// withCondition makes the manifest PUTs of ctx carry h: the If-Match or
// If-None-Match of a conditional tag write.
func withCondition(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, conditionKey{}, h)
}

func conditionFrom(ctx context.Context) http.Header {
	h, _ := ctx.Value(conditionKey{}).(http.Header)
	return h
}

func isBlobUpload(r *http.Request) bool {
	return (r.Method == http.MethodPatch || r.Method == http.MethodPut || r.Method == http.MethodPost) &&
		strings.Contains(r.URL.Path, "/blobs/uploads/")
}

func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.retry.base << (attempt - 1)
	if d > t.retry.max || d <= 0 {
		d = t.retry.max
	}
	return d/2 + rand.N(d/2+1) // jitter: many runners must not retry in step
}

// retryAfter reads seconds or an HTTP date, capped at max.
func retryAfter(v string, limit time.Duration) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = time.Until(at)
	} else {
		return 0, false
	}
	return min(max(d, 0), limit), true
}

// transient is a broken connection or a timeout: worth another try.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrPlainHTTP) {
		return false
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return false
	}
	// What go-containerregistry's own predicate retried, now that this
	// is the one layer that retries: a connection the peer reset or
	// closed under a streamed upload ends as net.ErrClosed.
	if errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	s := err.Error()
	for _, m := range []string{"connection reset", "broken pipe", "EOF", "connection refused", "timeout", "server closed", "use of closed network connection"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}
