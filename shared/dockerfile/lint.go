package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/gitship/gitship/shared/finding"
)

// Options tune one Lint call.
type Options struct {
	Config Config
	// Targets are build stages that a later step will build (--target /
	// --test-target); each must exist.
	Targets []string
}

// Lint checks one Dockerfile. name is the repository-relative path put in
// every Finding.File. It never returns an error for bad Dockerfile content:
// a syntax error is a Finding (rule DL1000, severity error, with the line).
func Lint(name string, src []byte, opts Options) []finding.Finding {
	l := &linter{file: name, lines: sourceLines(src), cfg: opts.Config}
	l.lint(src, opts.Targets)
	fs := l.results(opts.Config)
	finding.Sort(fs)
	return fs
}

// linter holds the state of one Lint call. Nothing in it outlives the call.
type linter struct {
	file   string
	lines  []string // source lines, for columns and global pragmas
	escape rune     // the Dockerfile's escape token
	shell  *shellReader
	stages []*stage
	// beforeFrom is set once an instruction other than ARG came before the
	// first FROM, so DL3061 is reported once.
	beforeFrom bool
	// prevRun is the RUN right before the current instruction, if it was
	// one (DL3059).
	prevRun *runInfo
	// preamble holds what instructions before the first FROM set (ENV),
	// which BuildKit refuses but the rules still read.
	preamble stage
	found    []candidate
	// cfg is the configuration: trustedRegistries (DL3026), label-schema
	// and strict-labels (DL3049-DL3058).
	cfg Config
}

// candidate is a finding before ignores and overrides are applied.
type candidate struct {
	f       finding.Finding
	ignores map[string]bool // inline pragmas of the instruction
}

// stage is one FROM and what the rules need to remember about it.
type stage struct {
	index int
	name  string // lower-cased AS name, "" if none
	image string
	line  int
	// parent is the earlier stage this one is built FROM, if any; its
	// USER and SHELL carry over.
	parent *stage
	shell  shellState
	// Line of the first CMD, ENTRYPOINT and HEALTHCHECK, 0 if none yet.
	cmd, entrypoint, healthcheck int
	lastUser                     *instr
	// base is set when a later stage is built FROM this one.
	base bool
	// workdir is set once the stage has a WORKDIR, onbuildWorkdir once
	// it has an ONBUILD WORKDIR (DL3045).
	workdir, onbuildWorkdir bool
	// wget and curl are set once a RUN of the stage used them (DL4001).
	wget, curl bool
	// env holds the stage's ENV settings.
	env map[string]string
	// from is the stage's FROM; labels are the keys its LABELs set.
	from   *instr
	labels map[string]bool
	// archives are the base names of local archives COPY put in (DL3010).
	archives map[string]bool
	// kept reports findings about files left in the stage's layers
	// (DL3060), called at the end if the stage reaches an image.
	kept []func()
	// aptLists are the RUNs that keep the apt lists (DL3009), reported at
	// the end if the stage reaches an image.
	aptLists []aptUpdate
}

// instr is a flattened view of one instruction. For an ONBUILD trigger it
// describes the inner instruction with the ONBUILD's lines and comments.
type instr struct {
	node     *parser.Node
	cmd      string // lower-case keyword
	args     []string
	flags    []string
	json     bool
	heredocs []parser.Heredoc
	line     int
	endLine  int
	ignores  map[string]bool
	onbuild  bool
}

func newInstr(n *parser.Node) *instr {
	in := &instr{
		node:     n,
		cmd:      strings.ToLower(n.Value),
		flags:    n.Flags,
		json:     n.Attributes["json"],
		heredocs: n.Heredocs,
		line:     n.StartLine,
		endLine:  n.EndLine,
		ignores:  inlineIgnores(n.PrevComment),
	}
	for a := n.Next; a != nil; a = a.Next {
		in.args = append(in.args, a.Value)
	}
	return in
}

// trigger returns the instruction an ONBUILD wraps, or nil.
func (in *instr) trigger() *instr {
	if in.cmd != "onbuild" || in.node.Next == nil || len(in.node.Next.Children) == 0 {
		return nil
	}
	inner := in.node.Next.Children[0]
	t := newInstr(inner)
	t.heredocs = in.heredocs
	t.line, t.endLine = in.line, in.endLine
	t.ignores = in.ignores
	t.onbuild = true
	return t
}

func (l *linter) lint(src []byte, targets []string) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		l.syntaxError(err)
		return
	}
	l.escape = res.EscapeToken
	var stageIgnores map[string]bool
	for _, n := range res.AST.Children {
		in := newInstr(n)
		l.inlinePragmas(n.StartLine)
		// A stage pragma silences its rules from the next instruction to
		// the end of the stage; above a FROM, for that whole stage.
		if in.cmd == "from" {
			stageIgnores = nil
		}
		for id := range pragmaIDs(n.PrevComment, scopeStage) {
			if stageIgnores == nil {
				stageIgnores = map[string]bool{}
			}
			stageIgnores[id] = true
		}
		if len(stageIgnores) > 0 {
			merged := maps.Clone(stageIgnores)
			maps.Copy(merged, in.ignores)
			in.ignores = merged
		}
		l.validate(in)
		l.instruction(in)
	}
	l.checkFinalUser()
	l.checkAptLists(targets)
	l.checkLabelsPresent()
	l.checkHealthcheck()
	l.checkTargets(targets)
}

// instruction dispatches one top-level instruction to its checks.
func (l *linter) instruction(in *instr) {
	if in.cmd != "run" {
		l.prevRun = nil
	}
	if in.cmd == "from" {
		l.from(in)
		return
	}
	cur := l.current()
	if cur == nil && in.cmd != "arg" {
		l.checkOrder(in)
	}
	switch in.cmd {
	case "run":
		l.run(in, cur)
	case "add":
		l.add(in)
		l.copyDest(in)
	case "copy":
		l.copyDest(in)
		l.copyFrom(in, cur)
		l.copyRelative(in, cur)
		l.copiedArchives(in, cur)
	case "env":
		l.envSelfRef(in)
		if cur == nil {
			cur = &l.preamble
		}
		cur.setEnv(in.args)
	case "label":
		l.labelKeys(in)
		l.labelValues(in)
		if cur != nil {
			cur.setLabels(in.args)
		}
	case "cmd", "entrypoint":
		l.execForm(in)
		l.repeated(in, cur)
	case "healthcheck":
		l.execForm(in)
		l.repeated(in, cur)
	case "user":
		if cur != nil {
			cur.lastUser = in
		}
	case "workdir":
		l.workdir(in)
		if cur != nil {
			cur.workdir = true
		}
	case "maintainer":
		l.maintainer(in)
	case "expose":
		l.expose(in)
	case "shell":
		if cur != nil {
			cur.shell = shellFromExec(in.args)
		}
	case "onbuild":
		if t := in.trigger(); t != nil {
			l.onbuild(t, cur)
		}
	}
}

// onbuild runs the checks that make sense for a trigger: those about the
// instruction itself, not about the stage it will run in, which belongs to
// another Dockerfile.
func (l *linter) onbuild(t *instr, cur *stage) {
	switch t.cmd {
	case "run":
		l.run(t, cur)
	case "add":
		l.add(t)
		l.copyDest(t)
	case "copy":
		l.copyDest(t)
		l.copyRelative(t, cur)
	case "workdir":
		l.workdir(t)
		if cur != nil {
			cur.onbuildWorkdir = true
		}
	case "label":
		l.labelKeys(t)
		l.labelValues(t)
	}
}

// setEnv records an ENV instruction's settings; BuildKit hands them over
// as name, value, separator triples.
func (st *stage) setEnv(args []string) {
	if st.env == nil {
		st.env = map[string]string{}
	}
	for i := 0; i+1 < len(args); i += 3 {
		st.env[args[i]] = args[i+1]
	}
}

func (l *linter) current() *stage {
	if len(l.stages) == 0 {
		return nil
	}
	return l.stages[len(l.stages)-1]
}

// syntaxError turns a parser error into DL1000 at the line BuildKit gives.
func (l *linter) syntaxError(err error) {
	line := 1
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = max(le.Locations[0][0].Start.Line, 1)
	}
	l.report(nil, ruleSyntax, line, 1, 0, "syntax error: %s", oneLine(err.Error()))
}

// report records a finding of rule id. in may be nil for file-level
// findings; col 0 means the instruction's own column.
func (l *linter) report(in *instr, id string, line, col, endLine int, format string, args ...any) {
	if col <= 0 {
		col = l.column(line, "")
	}
	if endLine <= line {
		endLine = 0
	}
	c := candidate{f: finding.Finding{
		RuleID:  id,
		File:    l.file,
		Line:    line,
		Column:  col,
		EndLine: endLine,
		Message: escapeControl(fmt.Sprintf(format, args...)),
	}}
	if in != nil {
		c.ignores = in.ignores
	}
	l.found = append(l.found, c)
}

// at reports on the whole instruction, pointing at token on its first line
// when it is there.
func (l *linter) at(in *instr, id, token, format string, args ...any) {
	l.report(in, id, in.line, l.column(in.line, token), in.endLine, format, args...)
}

// results applies pragmas and the configuration and sets severities.
func (l *linter) results(cfg Config) []finding.Finding {
	global := globalIgnores(l.lines)
	for _, id := range cfg.Ignored {
		global[normalizeID(id)] = true
	}
	out := make([]finding.Finding, 0, len(l.found))
	for _, c := range l.found {
		id := c.f.RuleID
		if global[id] || c.ignores[id] {
			continue
		}
		c.f.Severity = defaultSeverity(id)
		if sev, ok := cfg.Override[id]; ok {
			if sev >= finding.None {
				continue // overridden to "none": hadolint's way of switching a rule off
			}
			if sev >= finding.Info {
				c.f.Severity = sev
			}
		}
		if c.f.Severity >= finding.None {
			continue // off unless an override gives it a severity, as in hadolint
		}
		out = append(out, c.f)
	}
	return out
}

// column is the 1-based column of token on a source line, or of the
// line's first non-blank character when token is empty or not there.
func (l *linter) column(line int, token string) int {
	if line < 1 || line > len(l.lines) {
		return 1
	}
	s := l.lines[line-1]
	i := indexToken(s, token)
	if i < 0 {
		i = len(s) - len(strings.TrimLeft(s, " \t"))
	}
	return utf8.RuneCountInString(s[:i]) + 1
}

// indexToken finds token in s as a whole token: "apt" does not match in
// "apt-get", nor "|" in "||".
func indexToken(s, token string) int {
	if token == "" {
		return -1
	}
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], token)
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(token)
		if (i == 0 || class(s[i-1]) != class(token[0])) && (end == len(s) || class(s[end]) != class(token[len(token)-1])) {
			return i
		}
		off = i + 1
	}
	return -1
}

// class groups the bytes that make up one shell or Dockerfile word.
func class(c byte) byte {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./$:@=", c) >= 0 {
		return 'w'
	}
	return c
}

func sourceLines(src []byte) []string {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	lines := strings.Split(string(src), "\n")
	for i, s := range lines {
		lines[i] = strings.TrimSuffix(s, "\r")
	}
	return lines
}

// escapeControl keeps a message on one line whatever the Dockerfile's
// arguments contain (a stray \r, say): control characters are escaped.
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, breaksLine) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if breaksLine(r) {
			q := strconv.QuoteRuneToASCII(r) // '\r', '\u2028'
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func breaksLine(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func upper(s string) string { return strings.ToUpper(s) }

// quoteList renders names for a message: "a", "b".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
