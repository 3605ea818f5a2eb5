package forge_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/shared/forge"
)

// fast are Options for tests: retries wait a millisecond.
func fast(token, api string) forge.Options {
	return forge.Options{Token: token, APIURL: api, RetryWait: time.Millisecond}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, kind, url string
		want            string // provider name; "" wants ErrUnsupported
	}{
		{"detect github", "", "git@github.com:o/r.git", "github"},
		{"detect azure", "", "https://dev.azure.com/org/p/_git/r", "azure"},
		{"detect file", "", "file:///srv/gitops", "none"},
		{"detect path", "", "/srv/gitops", "none"},
		{"github enterprise", "github", "https://ghe.example.com/o/r.git", "github"},
		{"kind case", "GitHub", "https://github.com/o/r", "github"},
		{"none on github", "none", "https://github.com/o/r", "none"},
		{"github on azure URL", "github", "https://dev.azure.com/org/p/_git/r", ""},
		{"azure on github URL", "azure", "https://github.com/o/r", ""},
		{"github on file", "github", "file:///srv/gitops", ""},
		{"unknown kind", "gitlab", "https://gitlab.com/o/r", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := forge.New(tt.kind, tt.url, forge.Options{Token: "t"})
			if tt.want == "" {
				if !errors.Is(err, forge.ErrUnsupported) {
					t.Fatalf("New(%q, %q) = %v, %v; want ErrUnsupported", tt.kind, tt.url, p, err)
				}
				return
			}
			if err != nil || p.Name() != tt.want {
				t.Fatalf("New(%q, %q) = %v, %v; want %s", tt.kind, tt.url, p, err, tt.want)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	for url, want := range map[string]int{
		"https://github.com/o/r":           65536,
		"https://dev.azure.com/o/p/_git/r": 4000,
		"file:///srv/gitops":               0,
	} {
		p, err := forge.New("", url, forge.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.BodyLimit(); got != want {
			t.Errorf("%s BodyLimit() = %d, want %d", p.Name(), got, want)
		}
	}
}

func TestNone(t *testing.T) {
	p, err := forge.New("", "file:///srv/gitops", forge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Ensure(context.Background(), forge.Request{Head: "h", Base: "main", Title: "t"})
	if err != nil || res.PullRequest.Number != 0 || res.Created || len(res.Warnings) != 0 {
		t.Errorf("Ensure() = %+v, %v; want a zero Result", res, err)
	}
	if _, err := p.Get(context.Background(), 1); !errors.Is(err, forge.ErrUnsupported) {
		t.Errorf("Get(1) error = %v, want ErrUnsupported", err)
	}
	_, err = forge.WaitMerged(context.Background(), p, 1, time.Second, time.Millisecond)
	if !errors.Is(err, forge.ErrUnsupported) {
		t.Errorf("WaitMerged(none) error = %v, want ErrUnsupported", err)
	}
}

// stub is a Provider whose Get returns the next of states (then the last
// one forever), or err.
type stub struct {
	states []forge.State
	err    error
	calls  int
}

func (s *stub) Name() string   { return "stub" }
func (s *stub) BodyLimit() int { return 0 }
func (s *stub) Ensure(context.Context, forge.Request) (forge.Result, error) {
	return forge.Result{}, nil
}
func (s *stub) Get(_ context.Context, n int) (forge.PullRequest, error) {
	s.calls++
	if s.err != nil {
		return forge.PullRequest{}, s.err
	}
	st := s.states[min(s.calls, len(s.states))-1]
	return forge.PullRequest{Number: n, URL: "https://forge.example/pr/1", State: st}, nil
}

func TestWaitMergedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := forge.WaitMerged(ctx, &stub{states: []forge.State{forge.Open}}, 1, time.Hour, time.Millisecond)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitMerged(canceled) error = %v, want context.Canceled", err)
	}
}

func TestWaitMergedKeepsPollingAfterAReadFails(t *testing.T) {
	s := &stub{err: errors.New("connection reset")}
	_, err := forge.WaitMerged(context.Background(), s, 1, 30*time.Millisecond, time.Millisecond)
	if !errors.Is(err, forge.ErrTimeout) || !strings.Contains(err.Error(), "connection reset") || s.calls < 2 {
		t.Fatalf("WaitMerged() error = %v after %d reads; want ErrTimeout naming the last failure, after several reads", err, s.calls)
	}
	s = &stub{err: &forge.APIError{Provider: "stub", Status: 401}}
	_, err = forge.WaitMerged(context.Background(), s, 1, time.Hour, time.Millisecond)
	if !errors.Is(err, forge.ErrAuth) || s.calls != 1 {
		t.Fatalf("WaitMerged() error = %v after %d reads; want ErrAuth at once", err, s.calls)
	}
}
