package dockerfile

import (
	"encoding/csv"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// aptLists is where apt-get update writes the package lists.
const aptLists = "/var/lib/apt/lists"

// run applies the shell rules to one RUN.
func (l *linter) run(in *instr, cur *stage) {
	var sh shellState
	if cur != nil {
		sh = cur.shell
	}
	// With the backtick escape token the file is written for Windows,
	// where RUN goes to cmd.exe or PowerShell, not to a POSIX shell.
	if sh.nonPOSIX || l.escape == '`' {
		return
	}
	s, guarded, ok := l.script(in, sh)
	if !ok {
		return
	}
	l.consecutive(in, s)
	l.sudo(in, s)
	l.cd(in, s)
	l.aptGet(in, s, cur)
	l.packages(in, s, cur)
	l.rpm(in, s)
	l.useradd(in, s)
	l.yarnCache(in, s, cur)
	l.goInstall(in, s)
	l.extractsCopied(in, s, cur)
	l.downloads(in, s, cur)
	l.commands(in, s)
	if !in.onbuild && !in.json && !guarded && s.unguardedPipe {
		l.at(in, rulePipefail, "|",
			"pipe without pipefail: a failing command before | does not fail the build; add SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before this RUN or start it with set -o pipefail")
	}
}

// script returns the shell program a RUN executes. guarded is set when
// pipefail is on before the program starts (SHELL, shebang). ok is false
// when the program cannot be read, and the shell rules are skipped.
func (l *linter) script(in *instr, sh shellState) (s script, guarded, ok bool) {
	if l.shell == nil {
		l.shell = newShellReader()
	}
	if in.json {
		return l.shell.exec(in.args), false, true
	}
	if len(in.args) == 0 {
		return script{}, false, false
	}
	src := in.args[0]
	guarded = sh.pipefail
	if len(in.heredocs) > 0 {
		if h := parser.MustParseHeredoc(strings.TrimSpace(src)); h != nil {
			// "RUN <<EOF": BuildKit runs the heredoc body as the script,
			// through its shebang if it has one.
			body := strings.ReplaceAll(in.heredocs[0].Content, "\r\n", "\n")
			if shebang, rest, found := strings.Cut(body, "\n"); found && strings.HasPrefix(shebang, "#!") {
				argv := strings.Fields(strings.TrimPrefix(shebang, "#!"))
				if len(argv) > 1 && cmdName(argv[0]) == "env" {
					argv = argv[1:]
				}
				if len(argv) == 0 || !posixShells[cmdName(argv[0])] {
					return script{}, false, false // python, node, ...: not shell
				}
				guarded = setsPipefail(argv[1:])
				body = rest
			}
			s, ok = l.shell.parse(body)
			return s, guarded, ok
		}
		// Otherwise the heredocs are input of commands in the line:
		// put them back where the shell expects them.
		var b strings.Builder
		b.WriteString(src)
		b.WriteString("\n")
		for _, h := range in.heredocs {
			b.WriteString(h.Content)
			if !strings.HasSuffix(h.Content, "\n") && h.Content != "" {
				b.WriteString("\n")
			}
			b.WriteString(h.Name)
			b.WriteString("\n")
		}
		src = strings.ReplaceAll(b.String(), "\r\n", "\n") // heredoc bodies keep CRLF
	}
	s, ok = l.shell.parse(src)
	return s, guarded, ok
}

// sudo reports sudo in RUN (DL3004).
func (l *linter) sudo(in *instr, s script) {
	if s.has("sudo") {
		l.at(in, ruleSudo, "sudo", "sudo in RUN: the build already runs as the current USER; switch with USER root and back instead")
	}
}

// cd reports cd in RUN (DL3003).
func (l *linter) cd(in *instr, s script) {
	if s.has("cd") {
		l.at(in, ruleCd, "cd", "cd in RUN lasts for this RUN only: use WORKDIR to change directory")
	}
}

func (s script) has(name string) bool {
	for _, c := range s.calls {
		if c.name == name {
			return true
		}
	}
	return false
}

// aptGet applies the apt rules (DL3014, DL3015, DL3009, DL3027). apt and
// aptitude update write the same lists as apt-get update.
func (l *linter) aptGet(in *instr, s script, cur *stage) {
	updates, cleans, apt := "", false, false
	for _, c := range s.calls {
		switch c.name {
		case "rm":
			for _, a := range c.args {
				if a == aptLists || strings.HasPrefix(a, aptLists+"/") {
					cleans = true
				}
			}
		case "apt", "aptitude":
			if c.name == "apt" {
				apt = true
			}
			if parseAptGet(c.args).command == "update" && updates == "" {
				updates = c.name
			}
		case "apt-get":
			o := parseAptGet(c.args)
			switch o.command {
			case "update":
				if updates == "" {
					updates = c.name
				}
			case "install":
				if !o.yes {
					l.at(in, ruleAptYes, "apt-get", "apt-get install without -y waits for a confirmation the build cannot give: add -y")
				}
				if !o.noRecommends {
					l.at(in, ruleAptRecommends, "apt-get", "apt-get install without --no-install-recommends pulls in recommended packages: add --no-install-recommends")
				}
			}
		}
	}
	if apt {
		l.at(in, ruleApt, "apt", "apt is for interactive use and has no stable CLI: use apt-get or apt-cache in scripts")
	}
	if updates != "" && !cleans && !cachesAptLists(in.flags) {
		l.aptListsKept(aptUpdate{in, updates}, cur)
	}
}

// aptUpdate is a RUN whose apt-get, apt or aptitude update leaves the lists
// in the layer.
type aptUpdate struct {
	in   *instr
	tool string
}

// aptListsKept reports DL3009. In a stage, it waits for the end of the
// file: the lists matter only in a stage that ends up in an image, the last
// one, a --target or the base of a later stage. An ONBUILD trigger runs in
// an image built from this one, so it counts at once.
func (l *linter) aptListsKept(u aptUpdate, cur *stage) {
	if cur == nil || u.in.onbuild {
		l.reportAptLists(u)
		return
	}
	cur.aptLists = append(cur.aptLists, u)
}

func (l *linter) reportAptLists(u aptUpdate) {
	l.at(u.in, ruleAptLists, u.tool, "%s update without rm -rf %s/* in the same RUN leaves the package lists in the layer", u.tool, aptLists)
}

// checkAptLists reports the lists kept in stages that reach an image.
func (l *linter) checkAptLists(targets []string) {
	for i, st := range l.stages {
		used := i == len(l.stages)-1 || st.base
		for _, t := range targets {
			used = used || st.name != "" && strings.EqualFold(st.name, t)
		}
		if !used {
			continue
		}
		for _, u := range st.aptLists {
			l.reportAptLists(u)
		}
		for _, report := range st.kept {
			report()
		}
	}
}

// aptOptions is what the rules need from an apt-get command line.
type aptOptions struct {
	command      string // install, update, ...
	yes          bool   // -y, --yes, --assume-yes, -qq, -q=2, -o APT::Get::Assume-Yes=true
	noRecommends bool   // --no-install-recommends, -o APT::Install-Recommends=false
	packages     []string
}

func parseAptGet(args []string) aptOptions {
	var o aptOptions
	quiet := 0
	option := func(v string) {
		k, val, _ := strings.Cut(strings.ToLower(v), "=")
		on := val == "true" || val == "1" || val == "yes"
		off := val == "false" || val == "0" || val == "no"
		switch k {
		case "apt::get::assume-yes":
			o.yes = o.yes || on
		case "apt::install-recommends":
			o.noRecommends = o.noRecommends || off
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			switch name {
			case "yes", "assume-yes":
				o.yes = true
			case "quiet":
				if hasVal {
					quiet += atoiOr(val, 1)
				} else {
					quiet++
				}
			case "no-install-recommends":
				o.noRecommends = true
			case "option", "config-file", "target-release", "default-release", "host-architecture":
				if !hasVal && i+1 < len(args) {
					i++
					val = args[i]
				}
				if name == "option" {
					option(val)
				}
			}
		case len(a) > 1 && a[0] == '-':
			if name, val, ok := strings.Cut(a[1:], "="); ok {
				switch name {
				case "q":
					quiet += atoiOr(val, 1)
				case "o":
					option(val)
				}
				continue
			}
		cluster:
			for j := 1; j < len(a); j++ {
				switch a[j] {
				case 'y':
					o.yes = true
				case 'q':
					quiet++
				case 'o', 'c', 't', 'a':
					// The option's value is the rest of the cluster or
					// the next argument.
					val := a[j+1:]
					if val == "" && i+1 < len(args) {
						i++
						val = args[i]
					}
					if a[j] == 'o' {
						option(val)
					}
					break cluster
				}
			}
		default:
			if o.command == "" {
				o.command = a
			} else {
				o.packages = append(o.packages, a)
			}
		}
	}
	// Quiet level 2 implies -y (apt-get(8)).
	o.yes = o.yes || quiet >= 2
	return o
}

func atoiOr(s string, def int) int {
	n := 0
	if !isDigits(s) || len(s) > 3 {
		return def
	}
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// cachesAptLists reports whether a cache or tmpfs mount covers the apt
// lists, which then never reach the layer. A cache on /var/cache/apt
// alone does not: the lists live under /var/lib/apt.
func cachesAptLists(flags []string) bool {
	return cacheMount(flags, aptLists)
}

// mount is one --mount of a RUN.
type mount struct {
	typ, target string
}

// mounts reads the --mount flags of a RUN; the type defaults to bind.
func mounts(flags []string) []mount {
	var out []mount
	for _, f := range flags {
		v, ok := strings.CutPrefix(f, "--mount=")
		if !ok {
			continue
		}
		fields, err := csv.NewReader(strings.NewReader(v)).Read()
		if err != nil {
			continue
		}
		m := mount{typ: "bind"}
		for _, field := range fields {
			k, val, _ := strings.Cut(field, "=")
			switch strings.ToLower(k) {
			case "type":
				m.typ = strings.ToLower(val)
			case "target", "dst", "destination":
				m.target = path.Clean(val)
			}
		}
		out = append(out, m)
	}
	return out
}
