package forge_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/forgetest"
	"github.com/gitship/gitship/shared/forge"
)

// onFake is a Provider on a forge fake and what a test does on the fake's
// side to pull request n.
type onFake struct {
	p     forge.Provider
	url   func(n int) string // the pull request's web URL
	gets  func(n int) int    // the provider's reads of it so far
	merge func(n int) error  // GitHub's merge button, Azure's complete
	close func(n int) error  // closed without merging: GitHub's close, Azure's abandon
}

// providers are the forges a behaviour common to both is tested on.
var providers = []struct {
	name  string
	start func(*testing.T) onFake
}{
	{"github", func(t *testing.T) onFake {
		fake, p := newGitHub(t, forgetest.GitHubConfig{})
		return onFake{
			p:     p,
			url:   func(n int) string { return "https://github.com/acme/gitops/pull/" + strconv.Itoa(n) },
			gets:  func(n int) int { return len(fake.Calls(http.MethodGet, "/pulls/"+strconv.Itoa(n))) },
			merge: fake.Merge,
			close: fake.Close,
		}
	}},
	{"azure", func(t *testing.T) onFake {
		fake, p := newAzure(t, forgetest.AzureConfig{})
		return onFake{
			p: p,
			url: func(n int) string {
				return "https://dev.azure.com/Contoso/Web%20Platform/_git/gitops/pullrequest/" + strconv.Itoa(n)
			},
			gets:  func(n int) int { return len(fake.Calls(http.MethodGet, "/_apis/git/pullrequests/"+strconv.Itoa(n))) },
			merge: fake.Complete,
			close: fake.Abandon,
		}
	}},
}

func TestWaitMerged(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		finish  func(onFake) error // nil: the pull request stays open
		timeout time.Duration
		want    error
	}{
		{"merged", func(f onFake) error { return f.merge(1) }, 10 * time.Second, nil},
		{"closed", func(f onFake) error { return f.close(1) }, 10 * time.Second, forge.ErrClosed},
		{"timeout", nil, 50 * time.Millisecond, forge.ErrTimeout},
	}
	for _, provider := range providers {
		for _, tt := range tests {
			t.Run(provider.name+"/"+tt.name, func(t *testing.T) {
				f := provider.start(t)
				if _, err := f.p.Ensure(ctx, forge.Request{Head: "h", Base: "main", Title: "t"}); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				if tt.finish != nil {
					// Finish once WaitMerged has seen the pull request open twice.
					go func() {
						for f.gets(1) < 2 {
							time.Sleep(time.Millisecond)
						}
						done <- tt.finish(f)
					}()
				}
				pr, err := forge.WaitMerged(ctx, f.p, 1, tt.timeout, 2*time.Millisecond)
				if tt.finish != nil {
					if ferr := <-done; ferr != nil {
						t.Fatal(ferr)
					}
				}
				if !errors.Is(err, tt.want) || (tt.want == nil && pr.State != forge.Merged) {
					t.Fatalf("WaitMerged() = %+v, %v; want %v", pr, err, tt.want)
				}
				if err != nil && !strings.Contains(err.Error(), f.url(1)) {
					t.Errorf("error %q: want the pull request's URL %s", err, f.url(1))
				}
				if tt.want == forge.ErrTimeout && !strings.Contains(err.Error(), "50ms") {
					t.Errorf("error %q: want the timeout", err)
				}
			})
		}
	}
}

// TestGetStates reads an open, a merged and a closed pull request, and
// one that does not exist.
func TestGetStates(t *testing.T) {
	ctx := context.Background()
	for _, provider := range providers {
		t.Run(provider.name, func(t *testing.T) {
			f := provider.start(t)
			for _, h := range []string{"a", "b", "c"} {
				if _, err := f.p.Ensure(ctx, forge.Request{Head: h, Base: "main", Title: h}); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.merge(2); err != nil {
				t.Fatal(err)
			}
			if err := f.close(3); err != nil {
				t.Fatal(err)
			}
			for n, want := range map[int]forge.State{1: forge.Open, 2: forge.Merged, 3: forge.Closed} {
				pr, err := f.p.Get(ctx, n)
				if err != nil || pr.State != want || pr.Number != n || pr.URL != f.url(n) {
					t.Errorf("Get(%d) = %+v, %v; want state %s at %s", n, pr, err, want, f.url(n))
				}
			}
			_, err := f.p.Get(ctx, 9)
			var ae *forge.APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || errors.Is(err, forge.ErrAuth) {
				t.Errorf("Get(9) error = %v; want HTTP 404, not ErrAuth", err)
			}
		})
	}
}
