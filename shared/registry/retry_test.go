package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/stream"

	"github.com/gitship/gitship/internal/registrytest"
)

// oneBlob is an image whose only blob is its config: a failed blob upload
// is that one blob's.
func oneBlob(t *testing.T) v1.Image {
	t.Helper()
	img, err := mutate.Config(empty.Image, v1.Config{Labels: map[string]string{"test": t.Name()}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// streamed is an image whose one layer streams from a reader: its upload
// body cannot be sent twice, so the transport leaves the retries of it to
// go-containerregistry's whole-upload retry. The first attempt uses the
// stream up (go-containerregistry v0.22), so a second finds it consumed.
func streamed(t *testing.T) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, stream.NewLayer(io.NopCloser(strings.NewReader(t.Name()))))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Each request goes out at most defaultRetry.attempts (6) times, whatever
// fails: retries happen in one layer, never gitship's transport times
// go-containerregistry's (which made 6 x 6 = 36 manifest PUTs). The proxy
// in front of a real registry fails every matching request and counts them,
// and the retries the client reports are that count less the first try.
func TestRetriesOneLayer(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	for _, tt := range []struct {
		name         string
		method, part string // the requests failed, and counted
		status       int
	}{
		{"manifest PUT answered 500", "PUT", "/manifests/", http.StatusInternalServerError},
		{"manifest PUT answered 429", "PUT", "/manifests/", http.StatusTooManyRequests},
		{"tag HEAD answered 503", "HEAD", "/manifests/" + sha, http.StatusServiceUnavailable},
		{"streamed blob PATCH answered 502", "PATCH", "/blobs/uploads/", http.StatusBadGateway},
		{"blob commit PUT answered 500", "PUT", "/blobs/uploads/", http.StatusInternalServerError},
		{"upload start POST answered 500", "POST", "/blobs/uploads/", http.StatusInternalServerError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Rate: 1, Status: tt.status,
				Match: func(r *http.Request) bool { return registrytest.Request(r, tt.method, tt.part) }})
			c := client(Options{Insecure: true, Jobs: 1})
			path := "/retries/" + strings.ToLower(strings.ReplaceAll(tt.name, " ", "-"))
			_, err := c.Push(context.Background(), Artifact{Image: oneBlob(t)}, repo(t, c, proxy.Host+path),
				[]Tag{{Name: sha, Immutable: true}})
			if err == nil {
				t.Fatal("Push succeeded through a proxy failing every matching request")
			}
			if n := proxy.Count(tt.method, tt.part); n != fast.attempts {
				t.Errorf("%d %s %s requests, want %d (one layer of retries); err = %v\n%s",
					n, tt.method, tt.part, fast.attempts, err, strings.Join(proxy.Requests(), "\n"))
			}
			// The retries reported are the ones made: every failed request
			// but the first was a retry, and nothing retried the last.
			if n, r := proxy.Count(tt.method, tt.part), c.Stats.Retries.Load(); int64(n) != 1+r {
				t.Errorf("%d %s %s requests and %d retries reported, want requests = 1 + retries", n, tt.method, tt.part, r)
			}
			if d := registrytest.Digest(t, reg.Host+path+":"+sha); d != "" {
				t.Errorf("tagged %s after a failed push", d)
			}
		})
	}
}

// A blob whose body cannot be sent twice (a stream.Layer's) is retried by
// go-containerregistry's whole-upload retry, which asks its predicate after
// the last failure too, when no retry follows. The retries reported are the
// ones made: every attempt starts the upload with a POST, and the proxy sees
// one more than the retries reported. With one attempt the predicate says
// yes and no retry follows; with six, the stream is used up by the first
// and the second gives up before a PATCH. Push takes no stream (it needs
// the digest first), so this goes through upload.
func TestRetriesWholeUpload(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	for _, tt := range []struct {
		attempts       int
		patches, posts int
	}{
		{attempts: 1, patches: 1, posts: 1},
		{attempts: 6, patches: 1, posts: 2},
	} {
		t.Run(fmt.Sprintf("%d attempts", tt.attempts), func(t *testing.T) {
			proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Rate: 1, Status: http.StatusBadGateway,
				Match: func(r *http.Request) bool { return registrytest.Request(r, "PATCH", "/blobs/uploads/") }})
			policy := *fast
			policy.attempts = tt.attempts
			c := client(Options{Insecure: true, Jobs: 1, retry: &policy})
			path := fmt.Sprintf("/retries/whole-upload-%d", tt.attempts)
			err := c.upload(context.Background(), Artifact{Image: streamed(t)}, repo(t, c, proxy.Host+path), v1.Hash{})
			if err == nil {
				t.Fatal("upload succeeded through a proxy failing every PATCH")
			}
			patches, posts, retries := proxy.Count("PATCH", "/blobs/uploads/"), proxy.Count("POST", "/blobs/uploads/"), c.Stats.Retries.Load()
			if patches != tt.patches || posts != tt.posts || int64(posts) != 1+retries {
				t.Errorf("%d PATCH, %d POST (upload starts), %d retries reported; want %d PATCH, %d POST, %d retries; err = %v\n%s",
					patches, posts, retries, tt.patches, tt.posts, tt.posts-1, err, strings.Join(proxy.Requests(), "\n"))
			}
		})
	}
}
