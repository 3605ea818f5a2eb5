package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// probe is what to ask of every URL.
type probe struct {
	status    int
	body      *regexp.Regexp
	json      []jsonExpect
	successes int
	interval  time.Duration
	timeout   time.Duration
	client    *http.Client
	log       io.Writer
}

// jsonExpect is one --expect-json PATH=VALUE.
type jsonExpect struct {
	path  []string
	value string
	raw   string
}

func parseJSONExpect(s string) (jsonExpect, error) {
	p, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(p) == "" {
		return jsonExpect{}, fmt.Errorf("--expect-json %q: want PATH=VALUE, e.g. status=ok", s)
	}
	return jsonExpect{path: strings.Split(strings.TrimSpace(p), "."), value: v, raw: s}, nil
}

// probeResult is how one URL answered.
type probeResult struct {
	URL       string
	OK        bool
	Attempts  int
	Failures  int
	Latencies []time.Duration // of the right answers
	Last      string          // the last answer, or why it was wrong
}

// maxBackoff bounds the wait after wrong answers.
const maxBackoff = 30 * time.Second

// run asks u until it has answered right p.successes times in a row, or
// ctx ends. It prints a line when the answer changes, not at each probe.
func (p probe) run(ctx context.Context, u string) probeResult {
	res := probeResult{URL: u}
	inRow, delay, last := 0, p.interval, ""
	for {
		res.Attempts++
		lat, why := p.once(ctx, u)
		if ctx.Err() != nil {
			res.Last = "timed out: " + orUnknown(last)
			return res
		}
		line := why
		if why == "" {
			inRow++
			res.Latencies = append(res.Latencies, lat)
			line = "right answer"
			delay = p.interval
		} else {
			inRow = 0
			res.Failures++
			if last != "" && last != "right answer" {
				delay = min(delay*2, maxBackoff)
			}
		}
		if line != last {
			if why == "" {
				fmt.Fprintf(p.log, "GET %s: %d, right (%s)\n", u, p.status, lat.Round(time.Millisecond))
			} else {
				fmt.Fprintf(p.log, "GET %s: %s; trying again with back-off\n", u, why)
			}
			last = line
		}
		res.Last = line
		if inRow >= p.successes {
			res.OK = true
			fmt.Fprintf(p.log, "GET %s: %d right answers in a row, median %s\n", u, inRow, median(res.Latencies))
			return res
		}
		select {
		case <-ctx.Done():
			res.Last = "timed out: " + last
			return res
		case <-time.After(delay):
		}
	}
}

// once probes u one time: the latency, and "" or why the answer is wrong.
func (p probe) once(ctx context.Context, u string) (time.Duration, string) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("User-Agent", "gitship-verify")
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, oneLine(errText(err))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	lat := time.Since(start)
	if err != nil {
		return lat, "read the body: " + err.Error()
	}
	if resp.StatusCode != p.status {
		return lat, fmt.Sprintf("%s, want %d", resp.Status, p.status)
	}
	if p.body != nil && !p.body.Match(body) {
		return lat, fmt.Sprintf("body does not match %q", p.body.String())
	}
	if len(p.json) > 0 {
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			return lat, "body is not JSON: " + err.Error()
		}
		for _, e := range p.json {
			got, ok := jsonAt(doc, e.path)
			if !ok {
				return lat, fmt.Sprintf("JSON has no %s", strings.Join(e.path, "."))
			}
			if got != e.value {
				return lat, fmt.Sprintf("JSON %s is %s, want %s", strings.Join(e.path, "."), got, e.value)
			}
		}
	}
	return lat, ""
}

// errText is a transport error without the URL url.Error repeats.
func errText(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// jsonAt finds path in doc: a string as it is, anything else as JSON
// (42, true, null).
func jsonAt(doc any, path []string) (string, bool) {
	for _, key := range path {
		switch v := doc.(type) {
		case map[string]any:
			next, ok := v[key]
			if !ok {
				return "", false
			}
			doc = next
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(v) {
				return "", false
			}
			doc = v[i]
		default:
			return "", false
		}
	}
	if s, ok := doc.(string); ok {
		return s, true
	}
	b, _ := json.Marshal(doc)
	return string(b), true
}

// median is the 50th percentile, the lower middle of an even count.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return roundLatency(s[(len(s)-1)/2])
}

func roundLatency(d time.Duration) time.Duration {
	if d >= 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}
