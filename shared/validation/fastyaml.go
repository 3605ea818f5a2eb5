package validation

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// fastDecode reads the plain YAML most manifests are written in straight
// into decode's values, several times faster than go-yaml v2's parser,
// which builds tokens, events and nodes first: block mappings and
// sequences indented with spaces, plain and quoted scalars on one line,
// "|" block scalars, and flow collections on one line; printable ASCII
// only. Scalars resolve as go-yaml v2 resolves them (YAML 1.1). Anything
// else, and anything it is not sure go-yaml would read the same way (a
// key repeated, a plain scalar going on over lines, an escape, an anchor,
// a tag, a non-string key...), makes it answer false: decode then parses
// with go-yaml. FuzzFastDecode holds it to go-yaml's reading.
func fastDecode(data []byte) (map[string]any, bool) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, false
	}
	for _, c := range data {
		if (c < 0x20 && c != '\n') || c > 0x7e {
			return nil, false // tabs, CRs, controls, non-ASCII: go-yaml's rules
		}
	}
	lines := bytes.Split(data[:len(data)-1], []byte("\n"))
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("...")) || bytes.HasPrefix(l, []byte("%")) {
			return nil, false
		}
	}
	p := &fastParser{lines: lines}
	ind, ok := p.next()
	if !ok {
		return nil, true // comments only: an empty document
	}
	if isEntry(p.lines[p.i][ind:]) {
		return nil, false
	}
	m, ok := p.mapping(ind)
	if !ok {
		return nil, false
	}
	if _, more := p.next(); more {
		return nil, false
	}
	return m, true
}

type fastParser struct {
	lines [][]byte
	i     int // the line being read
	depth int // of the collections being read: see maxDepth
}

// maxDepth bounds the collections fastDecode reads inside each other, far
// below go-yaml's own limit (10,000): deeper ones go to go-yaml, which
// refuses them, instead of growing the stack.
const maxDepth = 1000

// next skips blank and comment lines and returns the indentation of the
// line it stops at; false at the end.
func (p *fastParser) next() (int, bool) {
	for ; p.i < len(p.lines); p.i++ {
		l := p.lines[p.i]
		ind := indentOf(l)
		if ind < len(l) && l[ind] != '#' {
			return ind, true
		}
	}
	return 0, false
}

func indentOf(l []byte) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

// isEntry reports whether b starts a block sequence entry.
func isEntry(b []byte) bool { return len(b) > 0 && b[0] == '-' && (len(b) == 1 || b[1] == ' ') }

// block reads the node whose first line is indented by ind.
func (p *fastParser) block(ind int) (any, bool) {
	if p.depth++; p.depth > maxDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	if isEntry(p.lines[p.i][ind:]) {
		return p.sequence(ind)
	}
	return p.mapping(ind)
}

func (p *fastParser) mapping(ind int) (map[string]any, bool) {
	m := map[string]any{}
	for {
		n, ok := p.next()
		if !ok || n < ind {
			return m, true
		}
		if n > ind {
			return nil, false
		}
		body := p.lines[p.i][ind:]
		if isEntry(body) {
			return m, true // the parent's sequence, at the key's indentation
		}
		key, rest, ok := blockKey(body)
		if !ok {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		p.i++
		var v any
		if len(rest) == 0 || rest[0] == '#' {
			if n, ok := p.next(); ok && n > ind {
				v, ok = p.block(n)
				if !ok {
					return nil, false
				}
			} else if ok && n == ind && isEntry(p.lines[p.i][ind:]) {
				if v, ok = p.sequence(ind); !ok {
					return nil, false
				}
			}
		} else if v, ok = p.inline(rest, ind); !ok {
			return nil, false
		}
		m[key] = v
	}
}

func (p *fastParser) sequence(ind int) ([]any, bool) {
	a := []any{}
	for {
		n, ok := p.next()
		if !ok || n < ind {
			return a, true
		}
		if n > ind {
			return nil, false
		}
		body := p.lines[p.i][ind:]
		if !isEntry(body) {
			return a, true // the parent mapping's next key
		}
		sp := indentOf(body[1:])
		content := body[1+sp:]
		var v any
		switch {
		case len(content) == 0 || content[0] == '#':
			if sp == 0 && len(content) > 0 {
				return nil, false
			}
			p.i++
			if n, ok := p.next(); ok && n > ind {
				if v, ok = p.block(n); !ok {
					return nil, false
				}
			}
		case isEntry(content):
			return nil, false
		default:
			if _, _, isKey := blockKey(content); isKey {
				// "- key: value": a mapping whose keys are indented
				// as this one, read as if the dash were a space.
				l := bytes.Clone(p.lines[p.i])
				l[ind] = ' '
				p.lines[p.i] = l
				if v, ok = p.mapping(ind + 1 + sp); !ok {
					return nil, false
				}
				break
			}
			p.i++
			if v, ok = p.inline(content, ind); !ok {
				return nil, false
			}
		}
		a = append(a, v)
	}
}

// blockKey reads "key: rest" or "key:" with a plain or quoted key.
func blockKey(b []byte) (key string, rest []byte, ok bool) {
	var k []byte
	switch b[0] {
	case '"', '\'':
		s, n, ok := quoted(b)
		if !ok || n >= len(b) || b[n] != ':' {
			return "", nil, false
		}
		key, k = s, b[:n]
	default:
		i := bytes.Index(b, []byte(": "))
		if i < 0 {
			if b[len(b)-1] != ':' {
				return "", nil, false
			}
			i = len(b) - 1
		}
		k = b[:i]
		if len(k) == 0 || len(k) > 1000 || !plainStart(k) || bytes.Contains(k, []byte(" #")) || k[len(k)-1] == ' ' {
			return "", nil, false
		}
		v, ok := resolvePlain(string(k))
		if key, ok = v.(string); !ok {
			return "", nil, false // 1, true, null, "<<" as keys: go-yaml's
		}
	}
	rest = b[len(k)+1:]
	if len(rest) > 0 && rest[0] != ' ' {
		return "", nil, false
	}
	return key, bytes.TrimLeft(rest, " "), true
}

// plainStart reports whether a plain scalar may start as s does.
func plainStart(s []byte) bool {
	switch s[0] {
	case '-', '?', ':':
		return len(s) > 1 && s[1] != ' '
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ':
		return false
	}
	return true
}

// inline reads a value that starts on its key's or dash's line, after
// which lines must be less indented than ind... or it is a "|" block
// scalar, whose text is more indented than ind.
func (p *fastParser) inline(b []byte, ind int) (any, bool) {
	switch b[0] {
	case '"', '\'':
		s, n, ok := quoted(b)
		if !ok || !onlyComment(b[n:]) {
			return nil, false
		}
		return s, true
	case '{', '[':
		f := flow{b: b}
		v, ok := f.value()
		if !ok || !onlyComment(f.b[f.i:]) {
			return nil, false
		}
		return v, true
	case '|':
		return p.literal(b, ind)
	}
	if !plainStart(b) {
		return nil, false
	}
	if i := bytes.Index(b, []byte(" #")); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimRight(b, " ")
	if bytes.Contains(b, []byte(": ")) || b[len(b)-1] == ':' {
		return nil, false
	}
	return resolvePlain(string(b))
}

// onlyComment reports whether b, after a value, holds nothing but spaces
// and a comment.
func onlyComment(b []byte) bool {
	t := bytes.TrimLeft(b, " ")
	return len(t) == 0 || (t[0] == '#' && len(t) < len(b))
}

// quoted reads a quoted scalar at the start of b, closed on its line,
// and returns its value and length; false for escapes.
func quoted(b []byte) (string, int, bool) {
	q := b[0]
	var s []byte
	for i := 1; i < len(b); i++ {
		switch {
		case b[i] == '\\' && q == '"':
			return "", 0, false
		case b[i] == q && q == '\'' && i+1 < len(b) && b[i+1] == '\'':
			s = append(s, '\'')
			i++
		case b[i] == q:
			return string(s), i + 1, true
		default:
			s = append(s, b[i])
		}
	}
	return "", 0, false
}

// literal reads a "|", "|-" or "|+" block scalar whose text is indented
// more than ind.
func (p *fastParser) literal(header []byte, ind int) (any, bool) {
	chomp := string(bytes.TrimRight(header[1:], " "))
	if chomp != "" && chomp != "-" && chomp != "+" {
		return nil, false
	}
	if p.i >= len(p.lines) {
		return nil, false
	}
	m := indentOf(p.lines[p.i])
	if m <= ind || m == len(p.lines[p.i]) {
		return nil, false // empty, or starting with blank lines: go-yaml's
	}
	var s strings.Builder
	blank := 0
	for ; p.i < len(p.lines); p.i++ {
		l := p.lines[p.i]
		if len(l) == 0 {
			blank++
			continue
		}
		n := indentOf(l)
		if n == len(l) {
			return nil, false // spaces only
		}
		if n < m {
			break
		}
		for ; blank > 0; blank-- {
			s.WriteByte('\n')
		}
		s.Write(l[m:])
		s.WriteByte('\n')
	}
	text := s.String()
	switch chomp {
	case "-":
		text = text[:len(text)-1]
	case "+":
		text += strings.Repeat("\n", blank)
	}
	return text, true
}

// flow reads a flow collection that ends on its line.
type flow struct {
	b     []byte
	i     int
	depth int
}

func (f *flow) spaces() {
	for f.i < len(f.b) && f.b[f.i] == ' ' {
		f.i++
	}
}

func (f *flow) value() (any, bool) {
	if f.depth++; f.depth > maxDepth {
		return nil, false
	}
	defer func() { f.depth-- }()
	f.spaces()
	if f.i >= len(f.b) {
		return nil, false
	}
	switch f.b[f.i] {
	case '{':
		f.i++
		m := map[string]any{}
		f.spaces()
		if f.i < len(f.b) && f.b[f.i] == '}' {
			f.i++
			return m, true
		}
		for {
			k, ok := f.scalar()
			key, isString := k.(string)
			if !ok || !isString {
				return nil, false
			}
			if _, dup := m[key]; dup {
				return nil, false
			}
			if f.i+1 >= len(f.b) || f.b[f.i] != ':' || f.b[f.i+1] != ' ' {
				return nil, false
			}
			f.i++
			if m[key], ok = f.value(); !ok {
				return nil, false
			}
			if end, ok := f.separator('}'); !ok {
				return nil, false
			} else if end {
				return m, true
			}
		}
	case '[':
		f.i++
		a := []any{}
		f.spaces()
		if f.i < len(f.b) && f.b[f.i] == ']' {
			f.i++
			return a, true
		}
		for {
			v, ok := f.value()
			if !ok {
				return nil, false
			}
			a = append(a, v)
			if end, ok := f.separator(']'); !ok {
				return nil, false
			} else if end {
				return a, true
			}
		}
	}
	return f.scalar()
}

// separator reads ", " between items (false) or the closing bracket (true).
func (f *flow) separator(closing byte) (end, ok bool) {
	f.spaces()
	if f.i >= len(f.b) {
		return false, false
	}
	switch f.b[f.i] {
	case closing:
		f.i++
		return true, true
	case ',':
		f.i++
		f.spaces()
		// "[a, ]" and "[a,,b]": go-yaml's.
		return false, f.i < len(f.b) && f.b[f.i] != ',' && f.b[f.i] != closing
	}
	return false, false
}

// scalar reads a quoted or plain scalar inside a flow collection; a plain
// one stops at the indicators that end it, and may not hold ":", "#" or
// "?" (go-yaml ends it there too).
func (f *flow) scalar() (any, bool) {
	f.spaces()
	rest := f.b[f.i:]
	if len(rest) == 0 {
		return nil, false
	}
	if rest[0] == '"' || rest[0] == '\'' {
		s, n, ok := quoted(rest)
		f.i += n
		return s, ok
	}
	if !plainStart(rest) {
		return nil, false
	}
	n := 0
	for n < len(rest) && !strings.ContainsRune(",[]{}", rune(rest[n])) {
		if rest[n] == ':' || rest[n] == '#' || rest[n] == '?' {
			if rest[n] == ':' && n > 0 && n+1 < len(rest) && rest[n+1] == ' ' {
				break // "key: value"
			}
			return nil, false
		}
		n++
	}
	s := bytes.TrimRight(rest[:n], " ")
	if len(s) == 0 {
		return nil, false
	}
	f.i += n
	return resolvePlain(string(s))
}

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolvePlain is what go-yaml v2 (resolve.go, into an interface{})
// makes of a plain scalar, as decode's values; false for NaN, infinities
// and the merge key, which decode leaves to go-yaml.
func resolvePlain(s string) (any, bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, true
	case "", "~", "null", "Null", "NULL":
		return nil, true
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<":
		return nil, false
	}
	switch c := s[0]; {
	case c == '.':
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return jsonValue(f)
		}
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		if isTimestamp(s) {
			return s, true // a string, into an interface{}
		}
		plain := strings.ReplaceAll(s, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return intFloat(i), true
		}
		if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return jsonValue(u)
		}
		if yamlStyleFloat.MatchString(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return jsonValue(f)
			}
		}
		if strings.HasPrefix(plain, "0b") {
			if i, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
				return intFloat(i), true
			}
			if u, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
				return jsonValue(u)
			}
		} else if strings.HasPrefix(plain, "-0b") {
			if i, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
				return intFloat(i), true
			}
		}
	}
	return s, true
}

// timestampFormats are go-yaml v2's.
var timestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// isTimestamp is go-yaml v2's parseTimestamp, its result aside.
func isTimestamp(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, format := range timestampFormats {
		if _, err := time.Parse(format, s); err == nil {
			return true
		}
	}
	return false
}
