package forgetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Request is one request a fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Injected is true for a request a Fault failed: the fake answered
	// it with the fault (and, unless the fault is AfterServe, did
	// nothing else).
	Injected bool
}

// Fault is a failure a fake injects in place of its answer.
type Fault struct {
	// Method limits the fault to requests with this method ("" any).
	Method string
	// Status is the status answered, 502 if 0, with an HTML body as a
	// gateway sends.
	Status int
	// AfterServe serves the request first and loses the answer: the
	// change is made, the client sees the fault (a gateway timing out on
	// a create that went through).
	AfterServe bool
}

// Decode decodes the JSON body into v.
func (r Request) Decode(v any) error { return json.Unmarshal(r.Body, v) }

// JSON is the body decoded into a generic value (a map for an object),
// or nil when it is empty or not JSON.
func (r Request) JSON() any {
	var v any
	if json.Unmarshal(r.Body, &v) != nil {
		return nil
	}
	return v
}

// String is "METHOD /path?query".
func (r Request) String() string {
	s := r.Method + " " + r.Path
	if len(r.Query) > 0 {
		s += "?" + r.Query.Encode()
	}
	return s
}

// recorder keeps the requests a fake received and the faults it is to
// inject.
type recorder struct {
	reqMu  sync.Mutex // guards reqs and faults
	reqs   []Request
	faults []Fault // one per request to fail, in order
}

// record reads and keeps r; it returns the fault to answer with, if any.
func (rec *recorder) record(r *http.Request) (body []byte, fault *Fault) {
	body, _ = io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec.reqMu.Lock()
	defer rec.reqMu.Unlock()
	for i, f := range rec.faults {
		if f.Method == "" || f.Method == r.Method {
			fault = &f
			rec.faults = slices.Delete(rec.faults, i, i+1)
			break
		}
	}
	rec.reqs = append(rec.reqs, Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		Query:    r.URL.Query(),
		Header:   r.Header.Clone(),
		Body:     body,
		Injected: fault != nil,
	})
	return body, fault
}

// FailNext makes the next n requests fail with status (502 if 0).
func (rec *recorder) FailNext(n, status int) {
	for range n {
		rec.Inject(Fault{Status: status})
	}
}

// Inject queues a fault for the next request it matches.
func (rec *recorder) Inject(f Fault) {
	if f.Status == 0 {
		f.Status = http.StatusBadGateway
	}
	rec.reqMu.Lock()
	defer rec.reqMu.Unlock()
	rec.faults = append(rec.faults, f)
}

// handler records each request and answers it with handle (given the
// body read), or with the fault injected for it: after handle has served
// it to a discarded answer if the fault is AfterServe.
func (rec *recorder) handler(handle func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, f := rec.record(r)
		if f == nil {
			handle(w, r, body)
			return
		}
		if f.AfterServe {
			handle(discard{http.Header{}}, r, body)
		}
		writeFault(w, f.Status)
	})
}

// start serves h until the test ends.
func start(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// discard is a ResponseWriter that drops the answer.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}

// Requests returns the requests received so far, in order.
func (rec *recorder) Requests() []Request {
	rec.reqMu.Lock()
	defer rec.reqMu.Unlock()
	return slices.Clone(rec.reqs)
}

// Calls returns the requests served (not injected faults) with this
// method whose path ends with suffix, compared case-insensitively.
func (rec *recorder) Calls(method, suffix string) []Request {
	var out []Request
	for _, r := range rec.Requests() {
		if !r.Injected && r.Method == method && strings.HasSuffix(strings.ToLower(r.Path), strings.ToLower(suffix)) {
			out = append(out, r)
		}
	}
	return out
}

// Reset forgets the requests received so far.
func (rec *recorder) Reset() {
	rec.reqMu.Lock()
	defer rec.reqMu.Unlock()
	rec.reqs = nil
}

func writeFault(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	io.WriteString(w, "<html><head><title>"+http.StatusText(status)+"</title></head><body>injected fault</body></html>\n")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
