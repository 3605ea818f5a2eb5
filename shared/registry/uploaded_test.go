package registry

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/registrytest"
)

// WhenUploaded's function gets the image by digest once the registry
// serves it, runs while the tags are set (the tag's PUT is held until it
// has run) and has returned when Push does; a failed upload never calls
// it, so nothing it would write names an image that is not there.
func TestWhenUploaded(t *testing.T) {
	for _, tt := range []struct {
		name       string
		refuse     string // the PUT refused with 403: "" none
		wantCalled bool
	}{
		{"uploaded", "", true},
		{"manifest refused", "/manifests/sha256:", false},
		{"blob refused", "/blobs/uploads/", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := registrytest.Start(t, registrytest.Options{})
			ran := make(chan struct{})
			var heldFor time.Duration
			faults := registrytest.Faults{Hold: func(r *http.Request) func() {
				if registrytest.Request(r, http.MethodPut, "/manifests/v1") {
					start := time.Now()
					select {
					case <-ran:
					case <-time.After(20 * time.Second):
					}
					heldFor = time.Since(start)
				}
				return nil
			}}
			if tt.refuse != "" {
				faults.Status = http.StatusForbidden
				faults.Rate = 1
				faults.Match = func(r *http.Request) bool { return registrytest.Request(r, http.MethodPut, tt.refuse) }
			}
			proxy := registrytest.NewProxy(t, reg, faults)
			c := client(Options{Insecure: true})
			r := repo(t, c, proxy.Host+"/uploaded")
			img := image(t, nil)
			h, _ := img.Digest()
			var got name.Digest
			var served error
			called := 0
			res, err := c.Push(context.Background(), Artifact{Image: img}, r, []Tag{{Name: "v1"}}, WhenUploaded(func(d name.Digest) {
				called++
				got = d
				_, served = remote.Head(d)
				close(ran)
			}))
			if !tt.wantCalled {
				if err == nil || called != 0 {
					t.Fatalf("Push = %v, function called %d times; want an error and no call", err, called)
				}
				return
			}
			if err != nil || called != 1 {
				t.Fatalf("Push = %+v, %v, function called %d times; want 1", res, err, called)
			}
			if got.String() != r.Digest(h.String()).String() || served != nil {
				t.Errorf("function got %s (served: %v); want %s, served", got, served, r.Digest(h.String()))
			}
			if heldFor >= 20*time.Second {
				t.Error("the tag's PUT waited for a function that ran only after the tags were set")
			}
			if d := registrytest.Digest(t, reg.Host+"/uploaded:v1"); d != h.String() {
				t.Errorf("v1 = %s; want %s", d, h)
			}
		})
	}
}
