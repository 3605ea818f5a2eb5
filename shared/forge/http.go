package forge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

const (
	defaultTimeout   = 60 * time.Second
	defaultRetryWait = 500 * time.Millisecond
	attempts         = 3 // tries of a call the server failed
	userAgent        = "gitship"
)

// sleep waits d, or less if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type idempotentKey struct{}

// idempotent marks ctx so that a POST made with it may be retried: the
// call has the same effect however often it is made (adding labels,
// requesting reviewers, enabling auto-merge).
func idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// retryTransport tries a call again when the server fails it (5xx) or the
// connection breaks, for the methods that may be repeated: GET, HEAD,
// OPTIONS, PUT, PATCH, DELETE, and a POST whose context is idempotent. A
// POST that creates something is never repeated here: the caller looks
// for what it created before trying again.
type retryTransport struct {
	base http.RoundTripper
	wait time.Duration
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.repeatable(req) {
		return t.base.RoundTrip(req)
	}
	wait := t.wait
	for try := 1; ; try++ {
		r := req
		if try > 1 && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		resp, err := t.base.RoundTrip(r)
		failed := (err != nil && req.Context().Err() == nil) || (resp != nil && resp.StatusCode >= 500)
		if !failed || try == attempts {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		wait *= 2
	}
}

func (t *retryTransport) repeatable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	case http.MethodPost:
		ok, _ := req.Context().Value(idempotentKey{}).(bool)
		return ok
	}
	return false
}

// withTransport returns a copy of c whose transport is wrap(c's).
func withTransport(c *http.Client, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	c2 := *c
	base := c2.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c2.Transport = wrap(base)
	return &c2
}

// truncate cuts body to limit characters (runes), saying so in a warning.
func truncate(body string, limit int) (string, []string) {
	if limit <= 0 || len(body) <= limit {
		return body, nil
	}
	r := []rune(body)
	if len(r) <= limit {
		return body, nil
	}
	return string(r[:limit]), []string{fmt.Sprintf("body cut from %d to %d characters, the provider's limit", len(r), limit)}
}
