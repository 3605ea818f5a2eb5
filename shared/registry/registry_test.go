package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/gitship/gitship/internal/registrytest"
)

var fast = &retryPolicy{attempts: 6, base: 10 * time.Millisecond, max: 2 * time.Second}

func image(t *testing.T, labels map[string]string) v1.Image {
	t.Helper()
	img, err := random.Image(64<<10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if labels != nil {
		cf, _ := img.ConfigFile()
		cf.Config.Labels = labels
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func client(o Options) *Client {
	if o.retry == nil {
		o.retry = fast
	}
	return New(o)
}

func repo(t *testing.T, c *Client, s string) name.Repository {
	t.Helper()
	r, err := c.ParseRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestPushThenPullEveryTag(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	c := client(Options{Insecure: true})
	img := image(t, nil)
	want, _ := img.Digest()
	res, err := c.Push(context.Background(), Artifact{Image: img}, repo(t, c, reg.Host+"/shop/api"),
		[]Tag{{Name: sha, Immutable: true}, {Name: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != want || res.Image != reg.Host+"/shop/api@"+want.String() {
		t.Errorf("result = %+v, want digest %s", res, want)
	}
	for _, ref := range append(res.Tags, res.Image) {
		if got := registrytest.Digest(t, ref); got != want.String() {
			t.Errorf("%s serves %q, want %s", ref, got, want)
		}
		r, _ := name.ParseReference(ref, name.Insecure)
		pulled, err := remote.Image(r)
		if err != nil {
			t.Fatalf("pull %s: %v", ref, err)
		}
		if err := validateImage(pulled); err != nil {
			t.Errorf("pull %s: %v", ref, err)
		}
	}
}

// validateImage reads every blob back, which checks each digest.
func validateImage(img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	_, err = img.RawConfigFile()
	return err
}

func TestImmutableTags(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	c := client(Options{Insecure: true})
	r := repo(t, c, reg.Host+"/shop/api")
	first, second := image(t, nil), image(t, nil)
	d1, _ := first.Digest()
	d2, _ := second.Digest()
	tags := []Tag{{Name: sha, Immutable: true}, {Name: "1.2.3", Immutable: true}, {Name: "main"}}
	if _, err := c.Push(context.Background(), Artifact{Image: first}, r, tags); err != nil {
		t.Fatal(err)
	}

	// Another image under the same commit: refused, and no tag moves,
	// not even the branch tag that could.
	_, err := c.Push(context.Background(), Artifact{Image: second}, r, tags)
	if !errors.Is(err, ErrTagConflict) || !strings.Contains(err.Error(), sha+" is "+d1.String()) ||
		!strings.Contains(err.Error(), "1.2.3 is ") {
		t.Fatalf("second push: %v, want a conflict naming both immutable tags", err)
	}
	for _, tag := range []string{sha, "1.2.3", "main"} {
		if got := registrytest.Digest(t, r.Tag(tag).String()); got != d1.String() {
			t.Errorf("after the refused push %s is %s, want %s", tag, got, d1)
		}
	}

	// A branch tag alone moves.
	if _, err := c.Push(context.Background(), Artifact{Image: second}, r, []Tag{{Name: "main"}}); err != nil {
		t.Fatal(err)
	}
	if got := registrytest.Digest(t, r.Tag("main").String()); got != d2.String() {
		t.Errorf("main is %s, want it moved to %s", got, d2)
	}
	// Pushing the same image again changes nothing and is no conflict.
	if res, err := c.Push(context.Background(), Artifact{Image: first}, r, tags[:2]); err != nil || len(res.Moved) != 0 {
		t.Errorf("re-push of the same image: %+v, %v", res, err)
	}
	// --overwrite moves an immutable tag.
	o := client(Options{Insecure: true, Overwrite: true})
	res, err := o.Push(context.Background(), Artifact{Image: second}, r, tags[:1])
	if err != nil || len(res.Moved) != 1 || registrytest.Digest(t, r.Tag(sha).String()) != d2.String() {
		t.Errorf("--overwrite: %+v, %v", res, err)
	}
}

func TestPromoteWithinRegistryMounts(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	proxy := registrytest.NewProxy(t, reg, registrytest.Faults{})
	c := client(Options{Insecure: true})
	img := image(t, map[string]string{"org.opencontainers.image.revision": sha})
	want, _ := img.Digest()
	if _, err := c.Push(context.Background(), Artifact{Image: img}, repo(t, c, proxy.Host+"/staging/api"), nil); err != nil {
		t.Fatal(err)
	}
	uploadsBefore := proxy.Count("PATCH", "/blobs/uploads/") + proxy.Count("PUT", "/blobs/uploads/")

	p := client(Options{Insecure: true})
	src, _ := p.ParseReference(proxy.Host + "/staging/api@" + want.String())
	res, err := p.Promote(context.Background(), src, repo(t, p, proxy.Host+"/prod/api"), []Tag{{Name: sha, Immutable: true}},
		map[string]string{"org.opencontainers.image.revision": sha})
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != want || registrytest.Digest(t, reg.Host+"/prod/api:"+sha) != want.String() {
		t.Errorf("promoted %s, want %s", res.Digest, want)
	}
	if n := proxy.Count("PATCH", "/blobs/uploads/") + proxy.Count("PUT", "/blobs/uploads/") - uploadsBefore; n != 0 {
		t.Errorf("%d blob upload requests during the promotion, want 0 (mounts):\n%s", n, strings.Join(proxy.Requests(), "\n"))
	}
	if m := proxy.Count("POST", "mount=sha256"); m != 4 || p.Stats.BlobsMounted.Load() != 4 {
		t.Errorf("%d mount requests, %d mounted; want 4 (3 layers and the config)", m, p.Stats.BlobsMounted.Load())
	}
	if p.Stats.BytesUploaded.Load() != 0 {
		t.Errorf("%d bytes uploaded by a same-registry promotion", p.Stats.BytesUploaded.Load())
	}
}

func TestPromoteAcrossRegistries(t *testing.T) {
	staging := registrytest.Start(t, registrytest.Options{})
	prod := registrytest.Start(t, registrytest.Options{})
	c := client(Options{Insecure: true})
	img := image(t, map[string]string{"org.opencontainers.image.revision": sha})
	want, _ := img.Digest()
	if _, err := c.Push(context.Background(), Artifact{Image: img}, repo(t, c, staging.Host+"/api"), []Tag{{Name: "rc"}}); err != nil {
		t.Fatal(err)
	}
	src, _ := c.ParseReference(staging.Host + "/api:rc")
	for i := range 2 {
		p := client(Options{Insecure: true})
		res, err := p.Promote(context.Background(), src, repo(t, p, prod.Host+"/api"), []Tag{{Name: sha, Immutable: true}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Digest != want || registrytest.Digest(t, prod.Host+"/api:"+sha) != want.String() {
			t.Errorf("promotion %d: %s, want %s", i, res.Digest, want)
		}
		uploaded := p.Stats.BytesUploaded.Load()
		switch {
		case i == 0 && uploaded < 3*64<<10:
			t.Errorf("first promotion uploaded %d bytes, want the three layers", uploaded)
		case i == 1 && uploaded != 0:
			t.Errorf("second promotion uploaded %d bytes, want 0: every blob is there", uploaded)
		}
	}
}

func TestPromoteRequiresLabels(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	c := client(Options{Insecure: true})
	img := image(t, map[string]string{"org.opencontainers.image.revision": "fedcba"})
	if _, err := c.Push(context.Background(), Artifact{Image: img}, repo(t, c, reg.Host+"/staging/api"), []Tag{{Name: "rc"}}); err != nil {
		t.Fatal(err)
	}
	src, _ := c.ParseReference(reg.Host + "/staging/api:rc")
	_, err := c.Promote(context.Background(), src, repo(t, c, reg.Host+"/prod/api"), []Tag{{Name: sha}},
		map[string]string{"org.opencontainers.image.revision": sha})
	if !errors.Is(err, ErrLabelMismatch) || !strings.Contains(err.Error(), `is "fedcba" (want "`+sha+`")`) {
		t.Fatalf("Promote = %v, want a label mismatch", err)
	}
	if d := registrytest.Digest(t, reg.Host+"/prod/api:"+sha); d != "" {
		t.Errorf("the refused image was tagged: %s", d)
	}
}

// A registry that fails 20% of requests (500, 429, reset) still gets the
// image; one that fails all of them gets no tag and a clean error.
func TestFaults(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	img := image(t, nil)
	want, _ := img.Digest()
	// With one layer of retries (6 sends), a request fails for good with
	// probability rate^6: 6e-5 at 0.2 for each of about 25 requests; 0.3
	// made that 2% a run.
	for _, tt := range []struct {
		rate float64
		ok   bool
	}{{0.2, true}, {1, false}} {
		proxy := registrytest.NewProxy(t, reg, registrytest.Faults{Rate: tt.rate, Seed: 42, RetryAfter: "0"})
		c := client(Options{Insecure: true})
		path := "/flaky/api"
		if !tt.ok {
			path = "/down/api"
		}
		res, err := c.Push(context.Background(), Artifact{Image: img}, repo(t, c, proxy.Host+path), []Tag{{Name: sha, Immutable: true}})
		got := registrytest.Digest(t, reg.Host+path+":"+sha)
		if tt.ok {
			if err != nil || res.Digest != want || got != want.String() {
				t.Errorf("rate %.1f: %v, tag is %q, want %s (%s)", tt.rate, err, got, want, proxy)
			}
			if proxy.Failed() == 0 || c.Stats.Retries.Load() == 0 {
				t.Errorf("rate %.1f: %s, %d retries: the faults did not happen", tt.rate, proxy, c.Stats.Retries.Load())
			}
			continue
		}
		if err == nil || got != "" {
			t.Errorf("rate 1: %v, tag %q; want an error and no tag", err, got)
		}
	}
}

func TestAuth(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{Username: "ci", Password: "s3cret-pass", TLS: true})
	img := image(t, nil)
	for _, tt := range []struct {
		name     string
		password string
		want     string
	}{
		{"right password", "s3cret-pass", ""},
		{"wrong password", "not-the-pass", "registry " + reg.Host + " refused the credentials from --username/--password (401 Unauthorized)"},
		{"no credentials", "", "registry " + reg.Host + " refused the credentials from no credentials (anonymous)"},
		{"credential helper missing", "", "could not be used: "},
		// A login on a GitHub runner, seen from a container action: the
		// directory DOCKER_CONFIG names is on the runner only.
		{"DOCKER_CONFIG not there", "", "none in the inputs or /home/runner/work/_temp/docker_login_1/config.json " +
			"(DOCKER_CONFIG=/home/runner/work/_temp/docker_login_1 is not there: a login on the runner does not reach a container action"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := t.TempDir() // no docker login of the machine
			t.Setenv("DOCKER_CONFIG", cfg)
			t.Setenv("GITHUB_ACTIONS", "")
			if tt.name == "DOCKER_CONFIG not there" {
				t.Setenv("DOCKER_CONFIG", "/home/runner/work/_temp/docker_login_1")
				t.Setenv("GITHUB_ACTIONS", "true")
			}
			if tt.name == "credential helper missing" {
				// As on Cloud Build, seen from a scratch image: a helper that is not there.
				os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"credHelpers":{"`+reg.Host+`":"gitship-none"}}`), 0o600)
			}
			o := Options{RootCAs: reg.CAs}
			if tt.password != "" {
				o.Credentials = Credentials{Username: "ci", Password: tt.password}
			}
			c := client(o)
			_, err := c.Push(context.Background(), Artifact{Image: img}, repo(t, c, reg.Host+"/api"), []Tag{{Name: "main"}})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Push = %v\nwant an access error containing %q", err, tt.want)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Error("the password is in the error")
			}
		})
	}
}

func TestPlainHTTPNeedsInsecure(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	c := client(Options{})
	_, err := c.Push(context.Background(), Artifact{Image: image(t, nil)}, repo(t, c, reg.Host+"/api"), nil)
	if err == nil || !strings.Contains(err.Error(), "plain HTTP is not allowed without --insecure") {
		t.Errorf("Push over plain HTTP = %v", err)
	}
}

// A 429 with Retry-After is retried after the wait it asks for.
func TestRetryAfter(t *testing.T) {
	var calls []time.Time
	srv := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, time.Now())
		if len(calls) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	tr := newTransport(true, nil, &Stats{}, *fast)
	req, _ := http.NewRequest(http.MethodGet, srv+"/v2/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("RoundTrip = %v, %v", resp, err)
	}
	if len(calls) != 2 || calls[1].Sub(calls[0]) < time.Second {
		t.Errorf("%d calls, %v apart; want a retry after Retry-After's second", len(calls), calls[len(calls)-1].Sub(calls[0]))
	}
}
