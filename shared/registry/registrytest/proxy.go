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

// Faults say how often a Proxy fails a request, and how.
type Faults struct {
	// Rate is the share of requests failed, 0 to 1.
	Rate float64
	// Seed makes the sequence of failures repeatable.
	Seed uint64
	// RetryAfter is sent with each 429, in seconds ("" sends none).
	RetryAfter string
}

// Proxy is a plain-HTTP reverse proxy in front of a registry that records
// every request and fails a share of them: 500, 429, or a reset
// connection, in turn.
type Proxy struct {
	// Host is the proxy's "127.0.0.1:port".
	Host string

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
	p := &Proxy{faults: f, rng: rand.New(rand.NewPCG(f.Seed, f.Seed+1))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r.Method+" "+r.URL.RequestURI())
		fail := f.Rate > 0 && p.rng.Float64() < f.Rate
		kind := p.failed % 3
		if fail {
			p.failed++
		}
		p.mu.Unlock()
		if !fail {
			rp.ServeHTTP(w, r)
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
