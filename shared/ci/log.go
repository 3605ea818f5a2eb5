package ci

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Writer is the one place a step's log lines are written: a Run's Stdout
// and Stderr are Writers, and the Platform's commands go through them too.
//
// Text written with Write is data, never a command: each line is redacted,
// then neutralised so that the CI it runs on cannot read it as one (see
// Neutralize). Only the Platform's own methods (Annotate, Mask, Group,
// EndGroup, SetOutput, Summary) and Fail write commands, through an
// unexported method no other package can call.
//
// Write holds back an incomplete last line, so that a command or a secret
// split across two writes is still seen whole; Flush writes it.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	kind   string
	redact func(string) string
	buf    []byte
}

// NewWriter returns the Writer for a log read by the platform named kind
// ("github", "azure", "cloudbuild", "local": see Kind). redact, if not nil,
// masks secrets in every line but the masking commands themselves.
func NewWriter(w io.Writer, kind string, redact func(string) string) *Writer {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &Writer{w: w, kind: kind, redact: redact}
}

// Write redacts and neutralises each complete line and passes it on.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	i := bytes.LastIndexByte(w.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	out := w.text(string(w.buf[:i+1]))
	w.buf = append(w.buf[:0], w.buf[i+1:]...)
	if _, err := io.WriteString(w.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a held-back partial line.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	out := w.text(string(w.buf))
	w.buf = w.buf[:0]
	_, err := io.WriteString(w.w, out)
	return err
}

// text redacts then neutralises whole lines (the last may lack its '\n').
func (w *Writer) text(s string) string {
	s = w.redact(s)
	if !neutralising(w.kind) {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		lines[i] = Neutralize(w.kind, l)
	}
	return strings.Join(lines, "")
}

// command writes one command line (without its '\n'). A partial line held
// back is ended first, so the command starts its own line. The line is
// redacted unless it is the masking command, which must carry the secret.
func (w *Writer) command(line string, secret bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.buf = append(w.buf, '\n')
		_ = w.flushLocked()
	}
	if !secret {
		line = w.redact(line)
	}
	_, _ = io.WriteString(w.w, line+"\n")
}

// redactString masks secrets in s, for text a Platform escapes before it
// reaches the Writer (the escaped form of a secret would not match).
func (w *Writer) redactString(s string) string { return w.redact(s) }

// Fail writes the message a run ends with when it fails: on GitHub and
// Azure as an error command, so the run page shows the reason and not only
// an exit code (the runner and the agent also print it in the log, so it is
// not repeated as plain text); elsewhere as a plain line.
func (w *Writer) Fail(message string) {
	// Redacted before it is escaped: the escaped form of a secret holding
	// '%' or a line break would no longer match it.
	message = w.redact(message)
	switch w.kind {
	case "github":
		emit(w, githubAnnotation("error", "", message), false)
	case "azure":
		emit(w, azureAnnotation("type=error", message), false)
	default:
		_, _ = io.WriteString(w, message+"\n")
	}
}

// Mask asks the CI that reads this log to hide secret (GitHub, Azure;
// other logs have no such command). The step framework calls it for every
// secret it knows before the step prints its first line.
func (w *Writer) Mask(secret string) { mask(w.kind, w, secret) }

// mask writes the masking command of the platform named kind, a line of
// the secret each: the one command that carries the secret, unredacted.
func mask(kind string, w io.Writer, secret string) {
	for _, line := range strings.Split(secret, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		switch kind {
		case "github":
			emit(w, "::add-mask::"+githubData(line), true)
		case "azure":
			emit(w, "##vso[task.setsecret]"+azureData(line), true)
		}
	}
}

// emit writes a command line: through the Writer's command path when w is
// one, else as it is (a writer in a test, a file).
func emit(w io.Writer, line string, secret bool) {
	if cw, ok := w.(*Writer); ok {
		cw.command(line, secret)
		return
	}
	_, _ = io.WriteString(w, line+"\n")
}

// redactFor masks secrets in text bound for w, when w is a Writer.
func redactFor(w io.Writer, s string) string {
	if cw, ok := w.(*Writer); ok {
		return cw.redactString(s)
	}
	return s
}

func neutralising(kind string) bool { return kind == "github" || kind == "azure" }

// Neutralize returns s so that the CI named kind cannot read a command in
// it; on other platforms, and for text that holds no command, s unchanged.
// s may hold several lines: each is treated, and a '\r' starts a line as
// much as a '\n' does (the runner and the agent split on both).
//
// What the CIs read (actions/runner ActionCommand.TryParseV2 and TryParse,
// azure-pipelines-agent Command.TryParse and the log viewer):
//   - GitHub: a line whose text, after leading white space, starts with
//     "::" (a workflow command); "##[" anywhere in a line (the older form,
//     still parsed, and the log viewer's formatting).
//   - Azure: "##vso[" anywhere in a line (a logging command); "##[" (the
//     log viewer's formatting: group, error, warning, section, command).
//
// The neutralised form changes only the characters that open a command:
// on GitHub the first ':' of a leading "::" becomes "%3A" (GitHub's escape
// for ':'), the "##" of a "##[" becomes "**" on both, and on Azure that of
// "##vso[" too (what the Azure agent itself does to untrusted text). The
// rest of the line, JSON or not, is left as it is.
//
// The match is generous, never narrower than the parsers': characters a
// .NET culture-aware comparison may skip (controls, format characters,
// combining marks, default-ignorable code points, invalid UTF-8) and white
// space are ignored between the characters of "::", "##[" and "##vso[",
// and "vso" is matched in any case.
func Neutralize(kind, s string) string {
	if !neutralising(kind) {
		return s
	}
	colons, hashes := openers(kind, s)
	if len(colons) == 0 && len(hashes) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*len(colons))
	last := 0
	for i := 0; i < len(s); i++ {
		switch {
		case colons[i]:
			b.WriteString(s[last:i])
			b.WriteString("%3A")
			last = i + 1
		case hashes[i]:
			b.WriteString(s[last:i])
			b.WriteByte('*')
			last = i + 1
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// HasCommand reports whether the CI named kind could read a command in s
// (the test Neutralize answers): a line that, ignoring what Neutralize
// ignores, starts with "::" on GitHub, or holds "##[" (both) or "##vso["
// (Azure). The test is generous: more than the CIs parse, never less.
func HasCommand(kind, s string) bool {
	if !neutralising(kind) {
		return false
	}
	colons, hashes := openers(kind, s)
	return len(colons) > 0 || len(hashes) > 0
}

// openers finds the byte offsets of the characters Neutralize replaces.
func openers(kind, s string) (colons, hashes map[int]bool) {
	type seen struct {
		r   rune
		off int
	}
	var tail []seen // the last significant runes, most recent last
	lineStart := true
	for off, r := range s {
		if r == '\n' || r == '\r' {
			lineStart = true
			continue
		}
		if ignorable(r) {
			continue
		}
		if lineStart && kind == "github" && r == ':' {
			if next, ok := nextSignificant(s, off+1); ok && next == ':' {
				if colons == nil {
					colons = map[int]bool{}
				}
				colons[off] = true
			}
		}
		lineStart = false
		if r == '[' {
			n := len(tail)
			mark := func(a, b int) {
				if hashes == nil {
					hashes = map[int]bool{}
				}
				hashes[tail[a].off], hashes[tail[b].off] = true, true
			}
			switch {
			case n >= 2 && tail[n-1].r == '#' && tail[n-2].r == '#':
				mark(n-2, n-1)
			case kind == "azure" && n >= 5 && tail[n-5].r == '#' && tail[n-4].r == '#' &&
				unicode.ToLower(tail[n-3].r) == 'v' && unicode.ToLower(tail[n-2].r) == 's' && unicode.ToLower(tail[n-1].r) == 'o':
				mark(n-5, n-4)
			}
		}
		tail = append(tail, seen{r, off})
		if len(tail) > 5 {
			tail = tail[1:]
		}
	}
	return colons, hashes
}

// nextSignificant is the first rune at or after off that is not ignorable.
func nextSignificant(s string, off int) (rune, bool) {
	for _, r := range s[off:] {
		if !ignorable(r) {
			return r, true
		}
	}
	return 0, false
}

// ignorable: white space (.NET TrimStart removes it) and what a
// culture-aware comparison may skip. Line breaks count: a pattern split by
// one is matched anyway, which only ever neutralises more.
func ignorable(r rune) bool {
	return r == utf8.RuneError || unicode.IsSpace(r) ||
		unicode.In(r, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// oneLine makes a title or other single-line text safe to put in a
// command: each line neutralised, line breaks turned into spaces.
func oneLine(kind, s string) string {
	s = Neutralize(kind, s)
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}
