package buildprogress

import (
	"bytes"
	"strings"
	"unicode"
)

// clean makes one line of a step's output fit for a CI log: escape
// sequences (colours, cursor movement, window titles) and other control
// characters removed, a tab kept, invalid UTF-8 replaced.
func clean(s string) string {
	if isPlain(s) {
		return s
	}
	s = stripEscapes(s)
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// isPlain reports whether s is printable ASCII (and tabs): the common case,
// which needs no copy.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

// stripEscapes removes ECMA-48 escape sequences: CSI (ESC [ ... final),
// the string sequences OSC, DCS, SOS, PM and APC (up to BEL or ESC \, or
// the end of the line when unterminated), and the two- and three-byte ESC
// sequences (ESC 7, ESC ( B). The 8-bit CSI (U+009B) goes with the other
// C1 controls in clean.
func stripEscapes(s string) string {
	if strings.IndexByte(s, 0x1b) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != 0x1b {
			b.WriteByte(c)
			i++
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch s[i] {
		case '[':
			i++
			for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3f { // parameters
				i++
			}
			for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f { // intermediates
				i++
			}
			if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e { // final
				i++
			}
		case ']', 'P', 'X', '^', '_':
			i++
			for i < len(s) {
				if s[i] == 0x07 {
					i++
					break
				}
				if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
					i += 2
					break
				}
				i++
			}
		default:
			for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
				i++
			}
			if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
				i++
			}
		}
	}
	return b.String()
}

// oneLine shows a text that may span lines (a heredoc RUN's name) on one
// line, its line breaks written as \n.
func oneLine(s string) string {
	s = strings.TrimRight(s, "\r\n")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", `\n`)
	return clean(s)
}

// lastState reduces a line drawn with carriage returns to what a terminal
// would show last: the text after the last CR that has text after it.
func lastState(s string) string {
	s = strings.TrimRight(s, "\r")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// lineBuffer splits a stream of chunks into lines, keeping a partial line
// until its end arrives. A line longer than maxLine is cut, so a stream that
// never ends a line cannot grow without bound.
type lineBuffer struct {
	partial []byte
}

const maxLine = 64 << 10

// write adds a chunk and passes each line it completes, without its end,
// to emit. A line longer than maxLine is passed in pieces of maxLine.
func (b *lineBuffer) write(data []byte, emit func(string)) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		chunk := data
		if i >= 0 {
			chunk, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		b.add(chunk)
		for len(b.partial) > maxLine {
			emit(lastState(string(b.partial[:maxLine])))
			b.partial = append(b.partial[:0], b.partial[maxLine:]...)
		}
		if i >= 0 {
			line := lastState(string(b.partial))
			b.partial = b.partial[:0]
			emit(line)
		}
	}
}

// add appends to the partial line and drops the states of a progress bar
// that a later CR overwrote, so that a bar animated for minutes without a
// newline stays small. A CR at the very end stays: it may be the first
// half of a CRLF. Only the new bytes (and a CR just before them) are
// searched, so a long line in small chunks costs linear time.
func (b *lineBuffer) add(data []byte) {
	from := max(len(b.partial)-1, 0)
	b.partial = append(b.partial, data...)
	end := len(b.partial)
	for end > from && b.partial[end-1] == '\r' {
		end--
	}
	if i := bytes.LastIndexByte(b.partial[from:end], '\r'); i >= 0 {
		b.partial = append(b.partial[:0], b.partial[from+i+1:]...)
	}
}

// flush returns the partial line, if any, and empties the buffer.
func (b *lineBuffer) flush(emit func(string)) {
	if len(b.partial) == 0 {
		return
	}
	line := lastState(string(b.partial))
	b.partial = b.partial[:0]
	emit(line)
}
