package registrytest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Faults say how often a Proxy fails a request, and how, and what else it
// does to the requests it passes.
type Faults struct {
	// Rate is the share of requests failed, 0 to 1.
	Rate float64
	// Seed makes the sequence of failures repeatable.
	Seed uint64
	// RetryAfter is sent with each 429, in seconds ("" sends none).
	RetryAfter string
	// Match, when set, limits the failures to the requests it matches
	// (see Request); the others pass.
	Match func(*http.Request) bool
	// Status, when set, is the one way requests fail: that status code,
	// instead of 500, 429 and a reset connection in turn.
	Status int
	// Hold, when set, is called before a request goes on, and may block:
	// a test orders the requests of concurrent runs with it. The function
	// it returns, if any, is called once the registry has answered.
	Hold func(*http.Request) (done func())
	// Conditional makes the proxy honour If-None-Match and If-Match on a
	// manifest PUT, as RFC 9110 defines them and the OCI distribution
	// spec's proposal on conditional requests applies them, in front of a
	// registry that ignores them (docker-registry 2.8 and distribution v3
	// do): "If-None-Match: *" fails with 412 when the tag exists,
	// If-Match: "<digest>" when it names another digest or none. The
	// check and the write are one step: manifest PUTs go one at a time.
	Conditional bool
}

// Request reports whether r has method and a path containing part:
// Request(r, "PUT", "/manifests/") for Faults.Match.
func Request(r *http.Request, method, part string) bool {
	return r.Method == method && strings.Contains(r.URL.Path, part)
}

// Proxy is a plain-HTTP reverse proxy in front of a registry that records
// every request and fails a share of them: 500, 429, or a reset
// connection, in turn.
type Proxy struct {
	// Host is the proxy's "127.0.0.1:port".
	Host string

	target *Registry
	putMu  sync.Mutex // manifest PUTs, with Conditional

	mu       sync.Mutex
	requests []string // "METHOD /path?query"
	failed   int
	rng      *rand.Rand
	faults   Faults
}

// NewProxy starts a proxy to the registry (which must serve plain HTTP)
// until the test ends.
func NewProxy(t testing.TB, target *Registry, f Faults) *Proxy {
	t.Helper()
	u, _ := url.Parse("http://" + target.Host)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &Proxy{faults: f, target: target, rng: rand.New(rand.NewPCG(f.Seed, f.Seed+1))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r.Method+" "+r.URL.RequestURI())
		fail := f.Rate > 0 && (f.Match == nil || f.Match(r)) && p.rng.Float64() < f.Rate
		kind := p.failed % 3
		if fail {
			p.failed++
		}
		p.mu.Unlock()
		if f.Hold != nil {
			if done := f.Hold(r); done != nil {
				defer done()
			}
		}
		if !fail {
			if f.Conditional && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
				p.conditionalPut(w, r, rp)
				return
			}
			rp.ServeHTTP(w, r)
			return
		}
		if f.Status != 0 {
			http.Error(w, fmt.Sprintf(`{"errors":[{"code":"UNKNOWN","message":"injected %d"}]}`, f.Status), f.Status)
			return
		}
		switch kind {
		case 0:
			http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}`, http.StatusInternalServerError)
		case 1:
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"injected rate limit"}]}`, http.StatusTooManyRequests)
		default:
			hj, ok := w.(http.Hijacker)
			if !ok {
				panic("no hijacker")
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // RST, not FIN
				}
				conn.Close()
			}
		}
	}))
	t.Cleanup(srv.Close)
	p.Host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// conditionalPut checks a manifest PUT's If-None-Match or If-Match
// against what the registry holds and passes it on only when it holds.
func (p *Proxy) conditionalPut(w http.ResponseWriter, r *http.Request, rp http.Handler) {
	p.putMu.Lock()
	defer p.putMu.Unlock()
	inm, im := r.Header.Get("If-None-Match"), r.Header.Get("If-Match")
	if inm != "" || im != "" {
		head, _ := http.NewRequestWithContext(r.Context(), http.MethodHead, "http://"+p.target.Host+r.URL.Path, nil)
		head.Header.Set("Accept", strings.Join(manifestTypes, ", "))
		resp, err := http.DefaultClient.Do(head)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		current := ""
		if resp.StatusCode == http.StatusOK {
			current = `"` + resp.Header.Get("Docker-Content-Digest") + `"`
		}
		if (inm == "*" && current != "") || (im != "" && (current == "" || (im != "*" && im != current))) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusPreconditionFailed)
			fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"precondition failed: the tag is %s"}]}`, current)
			return
		}
	}
	rp.ServeHTTP(w, r)
}

var manifestTypes = []string{
	"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
}

// Requests are the requests seen so far, "METHOD /path?query".
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Failed is how many requests the proxy failed.
func (p *Proxy) Failed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

// Count is how many requests had method and a path containing part.
func (p *Proxy) Count(method, part string) int {
	n := 0
	for _, r := range p.Requests() {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, part) {
			n++
		}
	}
	return n
}

func (p *Proxy) String() string {
	return fmt.Sprintf("proxy %s (%d requests, %d failed)", p.Host, len(p.Requests()), p.Failed())
}
