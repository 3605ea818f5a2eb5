// Command proxy is a plain-HTTP reverse proxy in front of a registry that
// counts what clients send: the request-body bytes of blob uploads (PATCH,
// PUT and POST under /blobs/uploads/), accepted cross-repository mounts,
// and requests by method. bench/publish.sh puts one in front of each
// registry to measure what gitship-publish and crane upload.
//
//	proxy -target 127.0.0.1:5000 -addr-file FILE [-log FILE] [-delay 20ms] [-rate 125MB]
//
// It listens on a free loopback port and writes "127.0.0.1:PORT" to
// -addr-file. GET /_bench/stats answers the counts as JSON; POST
// /_bench/reset zeroes them. -log appends one line per request: method,
// path, status, bytes sent, bytes answered, milliseconds from the request
// to the end of the answer. -delay holds each request that long first, as
// a round trip to a registry farther away would (bench/publish.sh does not
// use it; it is for trying what extra requests cost off loopback). -rate
// passes request bodies, all connections together, at most that many
// bytes a second (125MB: a 1 Gbit/s link), as the uplink of a CI runner
// to a registry elsewhere would.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type stats struct {
	mu       sync.Mutex
	Uploaded int64            `json:"uploaded"`   // request bodies of blob uploads
	Answered int64            `json:"downloaded"` // response bodies, all requests
	Mounted  int64            `json:"mounted"`    // POST ?mount= answered 201
	Requests map[string]int64 `json:"requests"`   // by method
}

func main() {
	target := flag.String("target", "", "registry host:port")
	addrFile := flag.String("addr-file", "", "file to write the proxy's host:port to")
	logFile := flag.String("log", "", "file to append one line per request to")
	delay := flag.Duration("delay", 0, "wait this long before forwarding each request: a round trip to a registry farther away than loopback")
	rateFlag := flag.String("rate", "", "pass request bodies, all together, at most this many bytes a second (125MB, 12.5MB, 500kB); empty: as fast as they come")
	flag.Parse()
	if *target == "" || *addrFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	var link *pacer
	if *rateFlag != "" {
		bps, err := parseRate(*rateFlag)
		if err != nil {
			log.Fatalf("-rate %q: %v", *rateFlag, err)
		}
		link = &pacer{perByte: time.Duration(float64(time.Second) / bps)}
	}
	var reqLog io.Writer = io.Discard
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		reqLog = f
	}
	var logMu sync.Mutex
	st := &stats{Requests: map[string]int64{}}
	u := &url.URL{Scheme: "http", Host: *target}
	rp := httputil.NewSingleHostReverseProxy(u) // keeps the client's Host: Location headers name the proxy
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	rp.FlushInterval = -1

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/_bench/stats":
			st.mu.Lock()
			defer st.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(st)
			return
		case "/_bench/reset":
			st.mu.Lock()
			st.Uploaded, st.Answered, st.Mounted, st.Requests = 0, 0, 0, map[string]int64{}
			st.mu.Unlock()
			return
		}
		var sent atomic.Int64
		upload := (r.Method == http.MethodPatch || r.Method == http.MethodPut || r.Method == http.MethodPost) &&
			strings.Contains(r.URL.Path, "/blobs/uploads/")
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &counting{ReadCloser: r.Body, n: &sent, link: link}
		}
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		if *delay > 0 {
			time.Sleep(*delay)
		}
		rp.ServeHTTP(cw, r)
		took := time.Since(start)
		st.mu.Lock()
		st.Requests[r.Method]++
		if upload && cw.status < 300 {
			st.Uploaded += sent.Load()
		}
		if r.Method == http.MethodPost && r.URL.Query().Get("mount") != "" && cw.status == http.StatusCreated {
			st.Mounted++
		}
		st.Answered += cw.n
		st.mu.Unlock()
		logMu.Lock()
		fmt.Fprintf(reqLog, "%s %s %d %d %d %.1f\n", r.Method, r.URL.RequestURI(), cw.status, sent.Load(), cw.n, took.Seconds()*1000)
		logMu.Unlock()
	})

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*addrFile, []byte(l.Addr().String()), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.Serve(l, h))
}

type counting struct {
	io.ReadCloser
	n    *atomic.Int64
	link *pacer // nil: no limit
}

func (c *counting) Read(p []byte) (int, error) {
	if c.link != nil && len(p) > 64<<10 {
		// Small reads, so that the pace is smooth and connections share it.
		p = p[:64<<10]
	}
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	if c.link != nil {
		c.link.pass(n)
	}
	return n, err
}

// pacer is a link of a fixed rate that every connection shares: n bytes
// take their turn after those before them, perByte each.
type pacer struct {
	perByte time.Duration
	mu      sync.Mutex
	next    time.Time // when the link is free again
}

func (p *pacer) pass(n int) {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(time.Duration(n) * p.perByte)
	until := p.next
	p.mu.Unlock()
	time.Sleep(time.Until(until))
}

// parseRate reads "125MB", "12.5MB", "500kB" or "1000000" as bytes a
// second (decimal units, as link speeds are given).
func parseRate(s string) (float64, error) {
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.m
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("want a positive number of bytes a second, e.g. 125MB")
	}
	return f * mult, nil
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
	wrote  bool
}

func (c *countingWriter) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.wrote = true
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
