package registry

import (
	"context"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/gitship/gitship/shared/registry/registrytest"
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

// Each request goes out at most defaultRetry.attempts (6) times, whatever
// fails: retries happen in one layer, never gitship's transport times
// go-containerregistry's (which made 6 x 6 = 36 manifest PUTs). The proxy
// in front of a real registry fails every matching request and counts them.
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
			if d := registrytest.Digest(t, reg.Host+path+":"+sha); d != "" {
				t.Errorf("tagged %s after a failed push", d)
			}
		})
	}
}
