package forge_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/shared/forge"
	"github.com/gitship/gitship/shared/forge/forgetest"
)

// onFake is a Provider on a forge fake holding pull request 1, open, and
// what a test does to that pull request on the fake's side.
type onFake struct {
	p     forge.Provider
	url   string       // pull request 1's web URL
	gets  func() int   // the provider's reads of pull request 1 so far
	merge func() error // GitHub's merge button, Azure's complete
	close func() error // closed without merging: GitHub's close, Azure's abandon
}

// providers are the forges a behaviour common to both is tested on.
var providers = []struct {
	name  string
	start func(*testing.T) onFake
}{
	{"github", func(t *testing.T) onFake {
		fake, p := newGitHub(t, forgetest.GitHubConfig{})
		return onFake{
			p: p, url: "https://github.com/acme/gitops/pull/1",
			gets:  func() int { return len(fake.Calls(http.MethodGet, "/pulls/1")) },
			merge: func() error { return fake.Merge(1) },
			close: func() error { return fake.Close(1) },
		}
	}},
	{"azure", func(t *testing.T) onFake {
		fake, p := newAzure(t, forgetest.AzureConfig{})
		return onFake{
			p: p, url: "https://dev.azure.com/Contoso/Web%20Platform/_git/gitops/pullrequest/1",
			gets:  func() int { return len(fake.Calls(http.MethodGet, "/_apis/git/pullrequests/1")) },
			merge: func() error { return fake.Complete(1) },
			close: func() error { return fake.Abandon(1) },
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
		{"merged", func(f onFake) error { return f.merge() }, 10 * time.Second, nil},
		{"closed", func(f onFake) error { return f.close() }, 10 * time.Second, forge.ErrClosed},
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
						for f.gets() < 2 {
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
				if err != nil && !strings.Contains(err.Error(), f.url) {
					t.Errorf("error %q: want the pull request's URL %s", err, f.url)
				}
				if tt.want == forge.ErrTimeout && !strings.Contains(err.Error(), "50ms") {
					t.Errorf("error %q: want the timeout", err)
				}
			})
		}
	}
}
