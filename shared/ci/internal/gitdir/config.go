package gitdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// option is one "key = value" of a config file, in its section; a section
// header is an option with no key.
type option struct {
	section, subsection, key, value string
}

// readConfig reads the git directory's config (not the user's or the
// system's) and refuses what go-git's Open refuses: a syntax error, a bad
// fetch refspec, pack.window or branch entry, and any extension but noop
// (so a partial clone, extensions.partialclone, is no repository to it).
// No config is an empty one.
func readConfig(dir string) ([]option, error) {
	path := filepath.Join(dir, "config")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	opts, err := parseConfig(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := checkConfig(opts); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return opts, nil
}

// RemoteURL returns the first URL of a remote (url, then pushurl), with
// the config's url.<base>.insteadOf rules applied, as go-git's
// Repository.Remote does.
func (r *Repo) RemoteURL(name string) (string, error) {
	var urls []string
	for _, key := range []string{"url", "pushurl"} {
		for _, o := range r.config {
			if strings.EqualFold(o.section, "remote") && o.subsection == name && strings.EqualFold(o.key, key) {
				urls = append(urls, o.value)
			}
		}
	}
	if len(urls) == 0 {
		return "", fmt.Errorf("remote %s: %w", name, ErrNotFound)
	}
	return insteadOf(urls[0], r.config), nil
}

// get returns the last value of section[.subsection].key.
func get(opts []option, section, subsection, key string) (string, bool) {
	v, found := "", false
	for _, o := range opts {
		if strings.EqualFold(o.section, section) && o.subsection == subsection && strings.EqualFold(o.key, key) {
			v, found = o.value, true
		}
	}
	return v, found
}

// subsections lists the subsections of section, in order, once each.
func subsections(opts []option, section string) []string {
	var subs []string
	seen := map[string]bool{}
	for _, o := range opts {
		if strings.EqualFold(o.section, section) && o.subsection != "" && !seen[o.subsection] {
			subs = append(subs, o.subsection)
			seen[o.subsection] = true
		}
	}
	return subs
}

// insteadOf applies the url.<base>.insteadOf rule with the longest match
// (go-git's findLongestInsteadOfMatch; a base without insteadOf matches
// every URL, as there).
func insteadOf(url string, opts []option) string {
	best, bestLen := "", -1
	for _, base := range subsections(opts, "url") {
		prefix, _ := get(opts, "url", base, "insteadOf")
		if strings.HasPrefix(url, prefix) && len(prefix) > bestLen {
			best, bestLen = base, len(prefix)
		}
	}
	if bestLen < 0 {
		return url
	}
	return best + url[bestLen:]
}

// checkConfig refuses what go-git's config.Unmarshal refuses, so a config
// it could not read gives no remote here either.
func checkConfig(opts []option) error {
	version, _ := get(opts, "core", "", "repositoryformatversion")
	for _, o := range opts {
		if !strings.EqualFold(o.section, "extensions") || o.subsection != "" || o.key == "" {
			continue
		}
		switch ext := strings.ToLower(o.key); {
		case ext == "noop":
		case ext == "noop-v1" && version == "1":
		default:
			return fmt.Errorf("extension %s is not supported", o.key)
		}
	}
	if w, ok := get(opts, "pack", "", "window"); ok && w != "" {
		if _, err := strconv.ParseUint(w, 10, 32); err != nil {
			return fmt.Errorf("pack.window: %w", err)
		}
	}
	for _, b := range subsections(opts, "branch") {
		if !validRefName("refs/heads/" + b) {
			return fmt.Errorf("branch %q: not a valid branch name", b)
		}
		if m, _ := get(opts, "branch", b, "merge"); m != "" && !strings.HasPrefix(m, "refs/heads/") {
			return fmt.Errorf("branch %s: merge %q is not a branch", b, m)
		}
		switch rb, _ := get(opts, "branch", b, "rebase"); rb {
		case "", "true", "interactive", "false":
		default:
			return fmt.Errorf("branch %s: rebase %q", b, rb)
		}
	}
	for _, o := range opts {
		if strings.EqualFold(o.section, "remote") && o.subsection != "" && strings.EqualFold(o.key, "fetch") {
			if err := checkRefSpec(o.value); err != nil {
				return fmt.Errorf("remote %s: fetch %q: %w", o.subsection, o.value, err)
			}
		}
	}
	return nil
}

// checkRefSpec is go-git's RefSpec.Validate.
func checkRefSpec(spec string) error {
	if strings.Count(spec, ":") != 1 || strings.HasSuffix(spec, ":") {
		return errors.New("malformed separator")
	}
	src, dst, _ := strings.Cut(spec, ":")
	if ws, wd := strings.Count(src, "*"), strings.Count(dst, "*"); ws != wd || ws >= 2 {
		return errors.New("malformed wildcard")
	}
	return nil
}

// parseConfig reads a git config file the way go-git's decoder (gcfg)
// does: [section] and [section "subsection"] headers, "key = value" or a
// bare "key" (empty value), values with "quoted parts", the escapes \\ \"
// \n \t \b, a backslash before a line break joining lines, and comments
// from an unquoted ';' or '#'. Includes are not followed.
func parseConfig(src string) ([]option, error) {
	if strings.ContainsRune(src, 0) || !utf8.ValidString(src) {
		return nil, errors.New("a NUL or a byte that is not UTF-8")
	}
	p := &cfgParser{src: src, line: 1}
	var opts []option
	section, subsection := "", ""
	for {
		p.skipSpace()
		switch c := p.peek(); {
		case c < 0:
			return opts, nil
		case c == '\n':
			p.next()
		case c == ';' || c == '#':
			p.skipComment()
		case c == '[':
			p.next()
			p.skipSpace()
			name := p.ident()
			if name == "" {
				return nil, p.errorf("expected section name")
			}
			p.skipSpace()
			sub := ""
			if p.peek() == '"' {
				var err error
				if sub, err = p.quotedSubsection(); err != nil {
					return nil, err
				}
				if sub == "" {
					return nil, p.errorf("empty subsection name")
				}
				p.skipSpace()
			}
			if p.peek() != ']' {
				return nil, p.errorf("expected right bracket")
			}
			p.next()
			if err := p.endOfLine(); err != nil {
				return nil, err
			}
			section, subsection = name, sub
			// The header alone makes the section, as in go-git: a
			// [url "x"] without insteadOf still rewrites.
			opts = append(opts, option{section: section, subsection: subsection})
		default:
			if section == "" {
				return nil, p.errorf("expected section header")
			}
			key := p.ident()
			if key == "" {
				return nil, p.errorf("expected section header or variable declaration")
			}
			p.skipSpace()
			value := ""
			if c := p.peek(); c == '=' {
				p.next()
				p.skipSpace()
				var err error
				if value, err = p.value(); err != nil {
					return nil, err
				}
			} else if c >= 0 && c != '\n' && c != ';' && c != '#' {
				return nil, p.errorf("expected '='")
			}
			if err := p.endOfLine(); err != nil {
				return nil, err
			}
			opts = append(opts, option{section, subsection, key, value})
		}
	}
}

type cfgParser struct {
	src  string
	pos  int
	line int
}

func (p *cfgParser) peek() int {
	if p.pos >= len(p.src) {
		return -1
	}
	return int(p.src[p.pos])
}

func (p *cfgParser) next() int {
	c := p.peek()
	if c >= 0 {
		p.pos++
		if c == '\n' {
			p.line++
		}
	}
	return c
}

func (p *cfgParser) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.line, fmt.Sprintf(format, args...))
}

func (p *cfgParser) skipSpace() {
	for c := p.peek(); c == ' ' || c == '\t' || c == '\r'; c = p.peek() {
		p.next()
	}
}

func (p *cfgParser) skipComment() {
	for c := p.peek(); c >= 0 && c != '\n'; c = p.peek() {
		p.next()
	}
}

// endOfLine accepts white space, then a comment, a line break or the end.
func (p *cfgParser) endOfLine() error {
	p.skipSpace()
	switch c := p.peek(); {
	case c < 0:
		return nil
	case c == '\n':
		p.next()
		return nil
	case c == ';' || c == '#':
		p.skipComment()
		return nil
	}
	return p.errorf("expected end of line, or comment")
}

// ident reads a name as gcfg does: a letter, then letters, digits and
// '-'; "" when there is no letter here.
func (p *cfgParser) ident() string {
	start := p.pos
	for p.pos < len(p.src) {
		r, w := utf8.DecodeRuneInString(p.src[p.pos:])
		if !isLetter(r) && (p.pos == start || !isDigit(r) && r != '-') {
			break
		}
		p.pos += w
	}
	return p.src[start:p.pos]
}

func isLetter(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r >= 0x80 && unicode.IsLetter(r)
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' || r >= 0x80 && unicode.IsDigit(r) }

// quotedSubsection reads "name" with \\ and \" escapes.
func (p *cfgParser) quotedSubsection() (string, error) {
	p.next() // '"'
	var b strings.Builder
	for {
		c := p.next()
		switch c {
		case -1, '\n':
			return "", p.errorf("string not terminated")
		case '"':
			return b.String(), nil
		case '\\':
			e := p.next()
			if e != '\\' && e != '"' {
				return "", p.errorf("unknown escape sequence")
			}
			b.WriteByte(byte(e))
		default:
			b.WriteByte(byte(c))
		}
	}
}

// value reads a value up to an unquoted line break or comment, with
// quotes removed, escapes read, and trailing unquoted white space cut.
func (p *cfgParser) value() (string, error) {
	var b strings.Builder
	keep := 0 // length of b up to its last character that is kept at the end
	inQuote := false
	for {
		c := p.peek()
		if !inQuote && (c < 0 || c == '\n' || c == ';' || c == '#') {
			break
		}
		p.next()
		switch {
		case c < 0 || inQuote && c == '\n':
			return "", p.errorf("string not terminated")
		case c == '"':
			inQuote = !inQuote
			keep = b.Len()
			continue
		case c == '\\':
			e := p.next()
			switch e {
			case '\\', '"':
				b.WriteByte(byte(e))
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case '\n':
				b.WriteByte('\n') // gcfg keeps the line break of a continued line
			default:
				return "", p.errorf("unknown escape sequence")
			}
			keep = b.Len()
			continue
		case c == '\r':
			continue
		}
		b.WriteByte(byte(c))
		if inQuote || (c != ' ' && c != '\t') {
			keep = b.Len()
		}
	}
	return b.String()[:keep], nil
}

// validRefName is go-git's ReferenceName.Validate for a name under refs/.
func validRefName(s string) bool {
	if strings.HasSuffix(s, ".") {
		return false
	}
	parts := strings.Split(s, "/")
	branchOrTag := strings.HasPrefix(s, "refs/heads/") || strings.HasPrefix(s, "refs/tags/")
	for i, part := range parts {
		if part == "" || strings.HasPrefix(part, ".") || strings.Contains(part, "..") ||
			strings.ContainsFunc(part, func(r rune) bool { return r < 0x20 || r == 0x7f }) ||
			strings.ContainsAny(part, "~^:?*[ \t\n\\") || strings.Contains(part, "@{") || part == "@" ||
			strings.HasSuffix(part, ".lock") || branchOrTag && i == 2 && strings.HasPrefix(part, "-") {
			return false
		}
	}
	return true
}
