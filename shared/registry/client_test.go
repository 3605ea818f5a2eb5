package registry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/registrytest"
)

// Calls made by someone else with the Client's Transport and Keychain (as
// publish's signing makes them, through go-containerregistry's remote with
// its default options): the Client's credentials and TLS roots, its
// refusals explained by Explain, its Stats counting, plain HTTP refused
// without Insecure, and each request retried in one layer only.
func TestTransportAndKeychain(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{Username: "ci", Password: "s3cret-pass", TLS: true})
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no docker login of the machine
	t.Setenv("GITHUB_ACTIONS", "")
	pusher := client(Options{RootCAs: reg.CAs, Credentials: Credentials{Registry: reg.Host, Username: "ci", Password: "s3cret-pass"}})
	r := repo(t, pusher, reg.Host+"/shop")
	if _, err := pusher.Push(context.Background(), Artifact{Image: image(t, nil)}, r, []Tag{{Name: "v1"}}); err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(reg.Host + "/shop:v1")
	for _, tt := range []struct {
		name  string
		creds Credentials
		want  string // in Explain's error; "" for success
	}{
		{"the inputs' credentials", Credentials{Registry: reg.Host, Username: "ci", Password: "s3cret-pass"}, ""},
		{"credentials for another registry only", Credentials{Registry: "ghcr.io", Username: "ci", Password: "s3cret-pass"},
			"registry " + reg.Host + " refused the credentials from no credentials (anonymous): none in the inputs or "},
		{"a wrong password", Credentials{Registry: reg.Host, Username: "ci", Password: "nope"},
			"registry " + reg.Host + " refused the credentials from --username/--password (401 Unauthorized)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := client(Options{RootCAs: reg.CAs, Credentials: tt.creds})
			_, err := remote.Head(ref, remote.WithTransport(c.Transport()), remote.WithAuthFromKeychain(c.Keychain()))
			err = c.Explain(err, reg.Host)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("HEAD %s: %v", ref, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrDenied)):
				t.Fatalf("HEAD %s: %v; want an ErrDenied saying %q", ref, err, tt.want)
			}
			if c.Stats.Requests.Load() == 0 {
				t.Error("Stats counted no request")
			}
		})
	}

	t.Run("plain HTTP without Insecure", func(t *testing.T) {
		var n atomic.Int64
		host := strings.TrimPrefix(httptestServer(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1) }), "http://")
		c := client(Options{})
		_, err := remote.Head(mustRef(t, host+"/shop:v1"), remote.WithTransport(c.Transport()))
		if err == nil || !strings.Contains(err.Error(), ErrPlainHTTP.Error()) || n.Load() != 0 {
			t.Errorf("HEAD over plain HTTP: %v, %d requests reached the server; want %q and none", err, n.Load(), ErrPlainHTTP)
		}
	})

	// go-containerregistry retries a 503 three times by default; the
	// Transport sends each of those once, where the Client's own stack
	// would send each six times.
	t.Run("retried in one layer", func(t *testing.T) {
		var n atomic.Int64
		host := strings.TrimPrefix(httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			n.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
		}), "http://")
		c := client(Options{Insecure: true})
		_, err := remote.Head(mustRef(t, host+"/shop:v1"), remote.WithTransport(c.Transport()),
			remote.WithRetryBackoff(remote.Backoff{Duration: 1, Factor: 1, Steps: 3}))
		if err == nil || n.Load() != 3 || c.Stats.Retries.Load() != 0 {
			t.Errorf("HEAD from a registry answering 503: %v, %d requests, %d counted retries; want an error after 3 requests, none retried by the Transport",
				err, n.Load(), c.Stats.Retries.Load())
		}
	})
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}
