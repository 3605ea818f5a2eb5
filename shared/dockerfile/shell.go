package dockerfile

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// shellState is what a stage's SHELL instruction tells the RUN checks.
type shellState struct {
	pipefail bool // the SHELL sets -o pipefail
	nonPOSIX bool // pwsh or cmd: the shell rules do not apply
}

// shellFromExec reads a SHELL instruction's argv.
func shellFromExec(argv []string) shellState {
	if len(argv) > 1 && cmdName(argv[0]) == "env" {
		argv = argv[1:] // SHELL ["/usr/bin/env", "bash", ...]
	}
	if len(argv) == 0 {
		return shellState{}
	}
	switch name := strings.TrimSuffix(cmdName(strings.ReplaceAll(argv[0], `\`, "/")), ".exe"); name {
	case "pwsh", "powershell", "cmd":
		return shellState{nonPOSIX: true}
	case "bash", "zsh", "ash", "ksh", "mksh", "busybox":
		return shellState{pipefail: setsPipefail(argv[1:])}
	}
	// sh (dash on Debian) has no pipefail before POSIX 2024: "sh -o
	// pipefail" fails every RUN there, so it does not count.
	return shellState{}
}

// setsPipefail reports whether shell or set options turn pipefail on:
// "-o pipefail", or a cluster ending in o such as "-euxo pipefail".
func setsPipefail(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		a := args[i]
		if len(a) >= 2 && a[0] == '-' && a[1] != '-' && strings.HasSuffix(a, "o") && args[i+1] == "pipefail" {
			return true
		}
	}
	return false
}

// posixShells are the interpreters whose scripts the shell rules read.
var posixShells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true, "busybox": true}

// call is one simple command: its name (base name, wrappers like sudo and
// env peeled off into calls of their own) and its arguments as text.
type call struct {
	name string
	args []string
	// env holds the NAME=value assignments before the command
	// (PIP_NO_CACHE_DIR=1 pip install ...), and those of env.
	env []string
}

// script is what the RUN rules need to know about a shell program.
type script struct {
	calls []call
	// commands counts the simple commands of the script itself (not those
	// of an sh -c inside it): one for "RUN make", two for "RUN a && b".
	commands int
	// exports are the NAME=value pairs the script exports.
	exports []string
	// unguardedPipe is set when a pipe runs before any "set -o pipefail"
	// of the script itself.
	unguardedPipe bool
}

// maxNesting bounds how deep sh -c '...' inside sh -c is followed.
const maxNesting = 3

// shellReader parses shell programs for one Lint call; syntax.Parser is
// not safe for concurrent use, so it is never shared across calls.
type shellReader struct {
	parser  *syntax.Parser
	printer *syntax.Printer
}

func newShellReader() *shellReader {
	return &shellReader{
		parser:  syntax.NewParser(syntax.Variant(syntax.LangBash)),
		printer: syntax.NewPrinter(),
	}
}

// parse reads src as a shell program. ok is false when it does not parse;
// the caller then skips the shell rules rather than guess.
func (r *shellReader) parse(src string) (s script, ok bool) {
	f, err := r.parser.Parse(strings.NewReader(src), "")
	if err != nil {
		return script{}, false
	}
	var pipeAt, pipefailAt uint
	hasPipe, hasPipefail := false, false
	syntax.Walk(f, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.BinaryCmd:
			if (x.Op == syntax.Pipe || x.Op == syntax.PipeAll) && (!hasPipe || x.OpPos.Offset() < pipeAt) {
				hasPipe, pipeAt = true, x.OpPos.Offset()
			}
		case *syntax.DeclClause:
			s.commands++
			if x.Variant != nil && x.Variant.Value == "export" {
				s.exports = append(s.exports, r.assigns(x.Args)...)
			}
		case *syntax.CallExpr:
			argv := r.words(x.Args)
			if len(argv) > 0 && cmdName(argv[0]) == "set" && setsPipefail(argv[1:]) &&
				(!hasPipefail || x.Pos().Offset() < pipefailAt) {
				hasPipefail, pipefailAt = true, x.Pos().Offset()
			}
			s.commands++
			r.addCall(&s, argv, 0, r.assigns(x.Assigns))
		}
		return true
	})
	s.unguardedPipe = hasPipe && (!hasPipefail || pipeAt < pipefailAt)
	return s, true
}

// exec reads an exec-form RUN: argv, and the script of sh -c if it is one.
func (r *shellReader) exec(argv []string) script {
	s := script{commands: 1}
	r.addCall(&s, argv, 0, nil)
	return s
}

// addCall records argv and what it runs: the command behind sudo, env and
// the like, and the calls inside sh -c '...'.
func (r *shellReader) addCall(s *script, argv []string, depth int, env []string) {
	for len(argv) > 0 {
		name := cmdName(argv[0])
		s.calls = append(s.calls, call{name: name, args: argv[1:], env: env})
		switch name {
		case "sudo":
			argv = skipOptions(argv[1:], "ugpChDrtUT")
		case "env":
			rest := skipEnv(argv[1:])
			for _, a := range argv[1 : len(argv)-len(rest)] {
				if strings.Contains(a, "=") && !strings.HasPrefix(a, "-") {
					env = append(slices.Clip(env), a)
				}
			}
			argv = rest
		case "exec", "nohup":
			argv = skipOptions(argv[1:], "a")
		case "command":
			if len(argv) > 1 && (argv[1] == "-v" || argv[1] == "-V") {
				return // only looks the command up
			}
			argv = skipOptions(argv[1:], "")
		default:
			if posixShells[name] && depth < maxNesting {
				if src, ok := dashC(argv[1:]); ok {
					r.nested(s, src, depth+1)
				}
			}
			return
		}
	}
}

// nested adds the calls of an sh -c script. Its pipes do not count for
// DL4006: they run under that sh, not under the RUN's SHELL.
func (r *shellReader) nested(s *script, src string, depth int) {
	f, err := r.parser.Parse(strings.NewReader(src), "")
	if err != nil {
		return
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		if x, ok := n.(*syntax.CallExpr); ok {
			r.addCall(s, r.words(x.Args), depth, r.assigns(x.Assigns))
		}
		return true
	})
}

// assigns renders the NAME=value assignments before a command.
func (r *shellReader) assigns(as []*syntax.Assign) []string {
	var out []string
	for _, a := range as {
		if a.Name == nil || a.Naked {
			continue
		}
		v := ""
		if a.Value != nil {
			v = r.word(a.Value)
		}
		out = append(out, a.Name.Value+"="+v)
	}
	return out
}

// words renders arguments as the text the command would see where that is
// static; expansions are kept in source form ("$PKG"), which never equals a
// literal the rules look for.
func (r *shellReader) words(ws []*syntax.Word) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, r.word(w))
	}
	return out
}

func (r *shellReader) word(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		switch x := p.(type) {
		case *syntax.Lit:
			b.WriteString(x.Value)
		case *syntax.SglQuoted:
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			for _, q := range x.Parts {
				if lit, ok := q.(*syntax.Lit); ok {
					b.WriteString(lit.Value)
				} else {
					_ = r.printer.Print(&b, q)
				}
			}
		default:
			_ = r.printer.Print(&b, p)
		}
	}
	return b.String()
}

// literal reports whether a word is static text (no expansion).
func literal(w *syntax.Word) bool {
	for _, p := range w.Parts {
		switch x := p.(type) {
		case *syntax.Lit, *syntax.SglQuoted:
		case *syntax.DblQuoted:
			for _, q := range x.Parts {
				if _, ok := q.(*syntax.Lit); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// cmdName is the base name of a command word; a leading backslash (used to
// bypass aliases) is dropped.
func cmdName(s string) string {
	return path.Base(strings.TrimPrefix(s, `\`))
}

// skipOptions drops leading options; short options listed in valued take
// the next argument.
func skipOptions(args []string, valued string) []string {
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return args[1:]
		}
		if len(a) < 2 || a[0] != '-' {
			return args
		}
		args = args[1:]
		if a[1] != '-' && strings.ContainsRune(valued, rune(a[len(a)-1])) && len(args) > 0 {
			args = args[1:]
		}
	}
	return args
}

// skipEnv drops env's options and NAME=value assignments.
func skipEnv(args []string) []string {
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--":
			return args[1:]
		case a == "-u" || a == "-C" || a == "-S":
			args = args[1:]
			if len(args) > 0 {
				args = args[1:]
			}
		case strings.HasPrefix(a, "-"), strings.Contains(a, "=") && !strings.HasPrefix(a, "="):
			args = args[1:]
		default:
			return args
		}
	}
	return args
}

// dashC finds the script of "sh [options] -c script".
func dashC(args []string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' && a[0] != '+' || strings.HasPrefix(a, "--") {
			return "", false // a script file or a long option we do not know
		}
		if strings.ContainsRune(a[1:], 'c') {
			if i+1 < len(args) {
				return args[i+1], true
			}
			return "", false
		}
		if strings.HasSuffix(a, "o") {
			i++ // -o takes an option name
		}
	}
	return "", false
}

// execSuggestion turns a shell-form command into the JSON form to suggest
// when that is a plain translation (one command, static words); otherwise
// it returns a template.
func execSuggestion(cmdline string) string {
	const template = `["executable", "param"]`
	r := newShellReader()
	f, err := r.parser.Parse(strings.NewReader(cmdline), "")
	if err != nil || len(f.Stmts) != 1 {
		return template
	}
	st := f.Stmts[0]
	ce, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(ce.Assigns) > 0 || len(st.Redirs) > 0 || st.Background || st.Negated || len(ce.Args) == 0 {
		return template
	}
	for _, w := range ce.Args {
		if !literal(w) {
			return template
		}
	}
	argv := r.words(ce.Args)
	if argv[0] == "exec" && len(argv) > 1 {
		argv = argv[1:]
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(argv) != nil {
		return template
	}
	return strings.ReplaceAll(strings.TrimSpace(b.String()), `","`, `", "`)
}
