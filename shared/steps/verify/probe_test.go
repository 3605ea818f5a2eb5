package verify

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An endpoint that fails its first probes: the probe goes on with
// back-off until enough right answers come in a row, and prints a line
// per change of answer.
func TestProbe(t *testing.T) {
	for _, tt := range []struct {
		name      string
		failFirst int32
		body      string
		setup     func(*probe)
		ok        bool
		attempts  int
		lines     []string
	}{
		{name: "recovers after 2 failures", failFirst: 2, body: `{"status":"ok","checks":[{"up":true}]}`, ok: true, attempts: 5,
			setup: func(p *probe) { p.json = []jsonExpect{mustJSON(t, "status=ok"), mustJSON(t, "checks.0.up=true")} },
			lines: []string{"503 Service Unavailable, want 200; trying again", "200, right", "3 right answers in a row"}},
		{name: "body never matches", body: "starting", ok: false,
			setup: func(p *probe) { p.body = regexpMust(`^ready$`) },
			lines: []string{`body does not match "^ready$"`}},
		{name: "JSON value differs", body: `{"status":"degraded"}`, ok: false,
			setup: func(p *probe) { p.json = []jsonExpect{mustJSON(t, "status=ok")} },
			lines: []string{"JSON status is degraded, want ok"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= tt.failFirst {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			var log bytes.Buffer
			p := probe{status: 200, successes: 3, interval: 20 * time.Millisecond, timeout: time.Second, client: srv.Client(), log: &log}
			tt.setup(&p)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			res := p.run(ctx, srv.URL)
			if res.OK != tt.ok || (tt.attempts > 0 && res.Attempts != tt.attempts) {
				t.Errorf("run = %+v, want ok %v after %d probes\nlog:\n%s", res, tt.ok, tt.attempts, &log)
			}
			got := strings.Split(strings.TrimSpace(log.String()), "\n")
			if len(got) != len(tt.lines) {
				t.Fatalf("log has %d lines, want %d:\n%s", len(got), len(tt.lines), &log)
			}
			for i, want := range tt.lines {
				if !strings.Contains(got[i], want) {
					t.Errorf("line %d = %q, want %q in it", i, got[i], want)
				}
			}
			if tt.ok && len(res.Latencies) != 3 {
				t.Errorf("latencies = %v, want 3", res.Latencies)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{30 * ms, 10 * ms, 20 * ms}, 20 * ms},
		{[]time.Duration{40 * ms, 10 * ms, 20 * ms, 30 * ms}, 20 * ms},
	} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func mustJSON(t *testing.T, s string) jsonExpect {
	e, err := parseJSONExpect(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }
