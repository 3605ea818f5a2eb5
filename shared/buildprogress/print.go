package buildprogress

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
)

// Summary is what a build's progress stream said, for the step to report
// and annotate once the solve returns.
type Summary struct {
	Vertices int       // vertices shown in the log
	Cached   int       // of those, the ones BuildKit took from its cache
	Failed   *Vertex   // the first vertex that failed (not one canceled after it); nil if none
	Warnings []Warning // BuildKit's warnings, each once, in the order they came
}

// Vertex is a failed vertex: its name as BuildKit gives it
// ("[stage-0 2/4] RUN go build ./..."), its error and the last lines of
// its output (at most TailLines), cleaned as the log shows them.
type Vertex struct {
	Name  string
	Error string
	Logs  []string
}

// Warning is one of BuildKit's warnings, such as a Dockerfile lint check:
// where the Dockerfile frontend gives a source, File is the file's name as
// BuildKit has it and Line its first line; "" and 0 otherwise.
type Warning struct {
	Short string
	File  string
	Line  int
}

// TailLines is how many of its last output lines a Vertex keeps.
const TailLines = 30

// Print reads BuildKit's status stream until ch is closed and writes the
// log to w, each write one whole line. It always drains ch, so the solve
// feeding it never blocks, even when w fails: write errors are dropped, as
// the log is not the build's result.
func Print(w io.Writer, ch <-chan *client.SolveStatus) *Summary {
	p := &printer{w: w, byDigest: map[string]*vertex{}, warned: map[string]bool{}}
	for st := range ch {
		if st != nil {
			p.status(st)
		}
	}
	return p.finish()
}

type printer struct {
	w        io.Writer
	byDigest map[string]*vertex // by digest: a vertex comes in many messages
	all      []*vertex          // in order of first appearance in the stream
	shown    int                // the last number given
	sum      Summary
	warned   map[string]bool
	pending  []*vertex // internal vertices completed, in order, their lines not yet written
}

type vertex struct {
	name      string
	num       int // its "#N" once shown, 0 before
	internal  bool
	started   *time.Time
	completed *time.Time
	cached    bool
	err       string
	done      bool // its last line is written
	pending   bool // an internal vertex completed, its line not yet written
	errShown  bool

	streams  map[int]*lineBuffer
	held     []string // output that came before the vertex was shown
	tail     []string
	statuses []*client.VertexStatus // the last update of each status ID, in order of first update
}

func (p *printer) vertex(digest string) *vertex {
	v := p.byDigest[digest]
	if v == nil {
		v = &vertex{streams: map[int]*lineBuffer{}}
		p.byDigest[digest] = v
		p.all = append(p.all, v)
	}
	return v
}

// status handles one message. A message can carry a vertex's start, its
// output and its completion at once: starts are printed first, then the
// output, then the completions.
func (p *printer) status(st *client.SolveStatus) {
	var touched []*vertex
	seen := map[*vertex]bool{}
	for _, sv := range st.Vertexes {
		if sv == nil {
			continue
		}
		v := p.vertex(string(sv.Digest))
		if sv.Name != "" {
			v.name = sv.Name
			v.internal = isInternal(sv.Name)
		}
		if sv.Started != nil && (v.started == nil || sv.Started.Before(*v.started)) {
			t := *sv.Started
			v.started = &t
		}
		switch {
		case sv.Completed != nil:
			t := *sv.Completed
			v.completed = &t
		case sv.Started != nil && v.completed != nil:
			// Started again: its end is yet to come.
			v.completed = nil
			if v.pending {
				v.pending = false
				p.pending = slices.DeleteFunc(p.pending, func(x *vertex) bool { return x == v })
			}
		}
		v.cached = v.cached || sv.Cached
		if sv.Error != "" {
			v.err = sv.Error
		}
		if !seen[v] {
			seen[v] = true
			touched = append(touched, v)
		}
	}
	for _, v := range touched {
		if !v.done && !v.internal && v.num == 0 && (v.started != nil || v.completed != nil || v.cached) {
			p.start(v)
		}
	}
	for _, l := range st.Logs {
		if l == nil {
			continue
		}
		v := p.vertex(string(l.Vertex))
		b := v.streams[l.Stream]
		if b == nil {
			b = &lineBuffer{}
			v.streams[l.Stream] = b
		}
		b.write(l.Data, func(s string) { p.output(v, s) })
	}
	for _, s := range st.Statuses {
		if s == nil {
			continue
		}
		p.vertex(string(s.Vertex)).update(s)
	}
	for _, v := range touched {
		if v.completed != nil && !v.pending && (!v.done || v.err != "" && !v.errShown) {
			p.complete(v)
		}
	}
	for _, w := range st.Warnings {
		if w != nil {
			p.warning(w)
		}
	}
}

// isInternal tells the vertices that load the build's inputs, and fetch
// registry tokens, from the build's own steps.
func isInternal(name string) bool {
	return strings.HasPrefix(name, "[internal] ") || strings.HasPrefix(name, "[auth] ")
}

// line writes one line, after the lines of the internal vertices that
// completed before it.
func (p *printer) line(format string, a ...any) {
	if len(p.pending) > 0 {
		p.internalLines()
	}
	_, _ = io.WriteString(p.w, fmt.Sprintf(format, a...)+"\n")
}

// internalLines writes the one line of each internal vertex completed
// since the last line. They wait because BuildKit completes some twice
// (loading the Dockerfile: started, completed, started again for the
// transfer, completed), and the line should have the whole.
func (p *printer) internalLines() {
	pending := p.pending
	p.pending = nil
	for _, v := range pending {
		v.pending = false
		v.done = true
		p.number(v)
		if v.cached {
			p.line("#%d CACHED %s", v.num, p.name(v))
			p.sum.Cached++
			continue
		}
		sum := strings.Join(v.summary(), "; ")
		if sum != "" {
			sum = " (" + sum + ")"
		}
		p.line("#%d %s DONE%s%s", v.num, p.name(v), duration(v), sum)
	}
}

// out writes one line of a vertex's output, after its number; an empty
// line is the number alone, with no space after it.
func (p *printer) out(v *vertex, s string) {
	if s == "" {
		p.line("#%d", v.num)
		return
	}
	p.line("#%d %s", v.num, s)
}

func (p *printer) number(v *vertex) {
	if v.num == 0 {
		if len(p.pending) > 0 {
			p.internalLines() // they come first, and their numbers too
		}
		p.shown++
		v.num = p.shown
		p.sum.Vertices++
	}
}

// start shows a vertex that began: "#N name", or "#N CACHED name" for one
// BuildKit took from its cache, which is all it gets.
func (p *printer) start(v *vertex) {
	p.number(v)
	if v.cached && v.err == "" {
		p.line("#%d CACHED %s", v.num, p.name(v))
		p.sum.Cached++
		v.done = true
		return
	}
	p.line("#%d %s", v.num, p.name(v))
	for _, s := range v.held {
		p.out(v, s)
	}
	v.held = nil
}

func (p *printer) name(v *vertex) string {
	if v.name == "" {
		return "(unnamed vertex)"
	}
	return oneLine(v.name)
}

// output takes one line of a vertex's output.
func (p *printer) output(v *vertex, s string) {
	s = clean(s)
	v.tail = append(v.tail, s)
	if len(v.tail) > TailLines {
		v.tail = v.tail[len(v.tail)-TailLines:]
	}
	switch {
	case v.internal:
		// Kept in the tail, shown only if it fails.
	case v.num == 0:
		if len(v.held) < maxHeld {
			v.held = append(v.held, s)
		}
	default:
		p.out(v, s)
	}
}

// maxHeld bounds the output kept for a vertex not yet shown (its output
// came before its start, or it never started).
const maxHeld = 1000

func (v *vertex) update(s *client.VertexStatus) {
	c := *s
	for i, old := range v.statuses {
		if old.ID == s.ID {
			if c.Started == nil {
				c.Started = old.Started
			}
			v.statuses[i] = &c
			return
		}
	}
	v.statuses = append(v.statuses, &c)
}

func (v *vertex) flush(p *printer) {
	ids := make([]int, 0, len(v.streams))
	for id := range v.streams {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		v.streams[id].flush(func(s string) { p.output(v, s) })
	}
}

// complete writes a vertex's last line: DONE with its time, ERROR with
// BuildKit's error, CANCELED, or CACHED; an internal vertex that succeeded
// gets only this line.
func (p *printer) complete(v *vertex) {
	v.flush(p)
	if v.done && (v.err == "" || v.errShown) {
		return // run again: it was shown
	}
	if v.internal && v.err == "" {
		if !v.pending {
			v.pending = true
			p.pending = append(p.pending, v)
		}
		return
	}
	if v.num == 0 {
		p.start(v)
		if v.done { // cached
			return
		}
	}
	if v.internal {
		for _, s := range v.tail {
			p.out(v, s)
		}
	}
	for _, s := range v.summary() {
		p.out(v, s)
	}
	switch {
	case v.err != "" && strings.HasSuffix(v.err, context.Canceled.Error()):
		p.line("#%d CANCELED", v.num)
	case v.err != "":
		lines := strings.Split(strings.TrimRight(v.err, "\n"), "\n")
		p.line("#%d ERROR: %s", v.num, clean(lastState(lines[0])))
		for _, s := range lines[1:] {
			p.out(v, clean(lastState(s)))
		}
		v.errShown = true
		if p.sum.Failed == nil {
			p.sum.Failed = &Vertex{Name: v.name, Error: v.err, Logs: append([]string(nil), v.tail...)}
		}
	case v.cached:
		p.line("#%d CACHED", v.num)
		p.sum.Cached++
	default:
		p.line("#%d DONE%s", v.num, duration(v))
	}
	v.done = true
}

func duration(v *vertex) string {
	if v.started == nil || v.completed == nil {
		return ""
	}
	d := v.completed.Sub(*v.started)
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf(" %.1fs", d.Seconds())
}

// summary sums up a vertex's statuses, each ID once at its last state:
// the layers of a pull (IDs "sha256:...", "extracting sha256:...") or of a
// cache export ("writing layer sha256:...") as one line each kind, with
// their size; anything else ("transferring context:", "writing image
// sha256:...", "naming to ...") as it last stood.
func (v *vertex) summary() []string {
	type group struct {
		prefix string // for layers
		label  string
		n      int
		bytes  int64
	}
	var groups []*group
	layers := map[string]*group{}
	for _, s := range v.statuses {
		id := oneLine(s.ID)
		size := s.Total
		if size <= 0 {
			size = s.Current
		}
		if prefix, ok := layerPrefix(id); ok {
			g := layers[prefix]
			if g == nil {
				g = &group{prefix: prefix, label: id}
				layers[prefix] = g
				groups = append(groups, g)
			}
			g.n++
			g.bytes += size
			continue
		}
		label := id
		switch {
		case s.Total > 0 && s.Current != s.Total:
			label += " " + bytesString(s.Current) + " / " + bytesString(s.Total)
		case size > 0:
			label += " " + bytesString(size)
		}
		groups = append(groups, &group{label: label})
	}
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		s := g.label // a single layer keeps its digest
		if g.n > 1 {
			s = fmt.Sprintf("%s%d layers", strings.TrimSuffix(g.prefix, "layer "), g.n)
		}
		if g.n > 0 && g.bytes > 0 {
			s += " " + bytesString(g.bytes)
		}
		out = append(out, s)
	}
	return out
}

// layerPrefix tells a status about one layer, "sha256:<hex>" alone or
// after "extracting " or "... layer ", and returns what comes before the
// digest.
func layerPrefix(id string) (string, bool) {
	i := strings.Index(id, "sha256:")
	if i < 0 || strings.ContainsAny(id[i+len("sha256:"):], " :") {
		return "", false
	}
	prefix := id[:i]
	if prefix == "" || prefix == "extracting " || strings.HasSuffix(prefix, "layer ") {
		return prefix, true
	}
	return "", false
}

func bytesString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= unit
		if f < unit || u == "TiB" {
			return fmt.Sprintf("%.2f%s", f, u)
		}
	}
	return ""
}

func (p *printer) warning(w *client.VertexWarning) {
	wa := Warning{Short: oneLine(string(w.Short))}
	if w.SourceInfo != nil {
		wa.File = w.SourceInfo.Filename
	}
	if len(w.Range) > 0 {
		wa.Line = int(w.Range[0].GetStart().GetLine())
	}
	key := fmt.Sprintf("%s\x00%d\x00%s", wa.File, wa.Line, wa.Short)
	if p.warned[key] {
		return
	}
	p.warned[key] = true
	p.sum.Warnings = append(p.sum.Warnings, wa)
}

// finish ends what the stream left open, when it stopped early: partial
// lines are written, output of vertices never shown is shown under their
// name; then the warnings.
func (p *printer) finish() *Summary {
	for _, v := range p.all {
		v.flush(p)
		if !v.internal && v.num == 0 && len(v.held) > 0 {
			p.start(v)
		}
	}
	p.internalLines()
	for _, w := range p.sum.Warnings {
		switch {
		case w.File != "" && w.Line > 0:
			p.line("WARNING: %s (%s:%d)", w.Short, clean(oneLine(w.File)), w.Line)
		case w.File != "":
			p.line("WARNING: %s (%s)", w.Short, clean(oneLine(w.File)))
		default:
			p.line("WARNING: %s", w.Short)
		}
	}
	return &p.sum
}
