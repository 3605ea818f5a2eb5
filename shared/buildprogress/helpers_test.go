package buildprogress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// The helpers build the messages a solve sends, as BuildKit's progress
// writer sends them: a vertex in one message when it starts and again when
// it completes, its output in chunks cut anywhere.

var t0 = time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)

func at(sec float64) *time.Time {
	t := t0.Add(time.Duration(sec * float64(time.Second)))
	return &t
}

func dg(name string) digest.Digest { return digest.FromString(name) }

func vtx(name string, start, end float64) *client.Vertex {
	v := &client.Vertex{Digest: dg(name), Name: name}
	if start >= 0 {
		v.Started = at(start)
	}
	if end >= 0 {
		v.Completed = at(end)
	}
	return v
}

func started(name string, sec float64) *client.SolveStatus {
	return &client.SolveStatus{Vertexes: []*client.Vertex{vtx(name, sec, -1)}}
}

func done(name string, start, end float64) *client.SolveStatus {
	return &client.SolveStatus{Vertexes: []*client.Vertex{vtx(name, start, end)}}
}

func failed(name string, start, end float64, msg string) *client.SolveStatus {
	v := vtx(name, start, end)
	v.Error = msg
	return &client.SolveStatus{Vertexes: []*client.Vertex{v}}
}

// cached is a vertex BuildKit found in its cache: started and completed
// at once, sent twice.
func cached(name string, sec float64) []*client.SolveStatus {
	a, b := vtx(name, sec, -1), vtx(name, sec, sec)
	a.Cached, b.Cached = true, true
	return []*client.SolveStatus{
		{Vertexes: []*client.Vertex{a}},
		{Vertexes: []*client.Vertex{b}},
	}
}

func output(name string, stream int, chunks ...string) *client.SolveStatus {
	st := &client.SolveStatus{}
	for _, c := range chunks {
		st.Logs = append(st.Logs, &client.VertexLog{Vertex: dg(name), Stream: stream, Data: []byte(c)})
	}
	return st
}

func status(name, id string, current, total int64, start float64, end float64) *client.SolveStatus {
	s := &client.VertexStatus{ID: id, Vertex: dg(name), Current: current, Total: total, Started: at(start), Timestamp: *at(start)}
	if end >= 0 {
		s.Completed = at(end)
		s.Timestamp = *at(end)
	}
	return &client.SolveStatus{Statuses: []*client.VertexStatus{s}}
}

func warning(short, file string, line int32) *client.SolveStatus {
	return &client.SolveStatus{Warnings: []*client.VertexWarning{{
		Short:      []byte(short),
		Detail:     [][]byte{[]byte("detail")},
		SourceInfo: &pb.SourceInfo{Filename: file},
		Range:      []*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}},
	}}}
}

func flat(msgs ...any) []*client.SolveStatus {
	var out []*client.SolveStatus
	for _, m := range msgs {
		switch m := m.(type) {
		case *client.SolveStatus:
			out = append(out, m)
		case []*client.SolveStatus:
			out = append(out, m...)
		default:
			panic("flat: not a status")
		}
	}
	return out
}

// lineWriter records the log and fails the test if a write is not one
// whole line, or holds an escape or a carriage return.
type lineWriter struct {
	t   testing.TB
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(p) == 0 || p[len(p)-1] != '\n' || bytes.Count(p, []byte("\n")) != 1 {
		w.t.Errorf("Write(%q): not one whole line", p)
	}
	if bytes.ContainsAny(p, "\x1b\r") {
		w.t.Errorf("Write(%q): an escape or a carriage return", p)
	}
	w.buf.Write(p)
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// run feeds the messages to Print from another goroutine, as a solve does,
// and returns the log and the summary.
func run(t testing.TB, msgs []*client.SolveStatus) (string, *Summary) {
	t.Helper()
	ch := make(chan *client.SolveStatus)
	go func() {
		defer close(ch)
		for _, m := range msgs {
			ch <- m
		}
	}()
	w := &lineWriter{t: t}
	sum := Print(w, ch)
	return w.String(), sum
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }
