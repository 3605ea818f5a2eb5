package dockerfile

import (
	"strconv"
	"strings"
)

// execForm reports CMD, ENTRYPOINT and HEALTHCHECK CMD in shell form
// (DL3025).
func (l *linter) execForm(in *instr) {
	args, what := in.args, upper(in.cmd)
	if in.cmd == "healthcheck" {
		if len(args) == 0 || !strings.EqualFold(args[0], "cmd") {
			return // HEALTHCHECK NONE
		}
		args, what = args[1:], "HEALTHCHECK CMD"
	}
	if in.json || len(args) == 0 || strings.TrimSpace(args[0]) == "" {
		return
	}
	l.at(in, ruleShellForm, "",
		"shell-form %s runs under /bin/sh -c, which does not pass SIGTERM on: use JSON form, %s %s",
		what, what, execSuggestion(args[0]))
}

// repeated reports a second CMD, ENTRYPOINT or HEALTHCHECK in one stage
// (DL4003, DL4004, DL3012): only the last one takes effect.
func (l *linter) repeated(in *instr, cur *stage) {
	if cur == nil {
		return
	}
	var first *int
	var id string
	switch in.cmd {
	case "cmd":
		first, id = &cur.cmd, ruleCmds
	case "entrypoint":
		first, id = &cur.entrypoint, ruleEntrypoints
	case "healthcheck":
		first, id = &cur.healthcheck, ruleHealthchecks
	default:
		return
	}
	if *first == 0 {
		*first = in.line
		return
	}
	l.at(in, id, "", "several %s in one stage: only the last one takes effect (first at line %d)", upper(in.cmd), *first)
}

// checkFinalUser reports a final stage that runs as root (DL3002): its
// last USER, or the last USER of the stage it is built on, is root. A
// stage without any USER is left alone: its user comes from the base
// image, which the linter cannot see.
func (l *linter) checkFinalUser() {
	var user *instr
	for st, hops := l.current(), 0; st != nil && user == nil && hops <= len(l.stages); st, hops = st.parent, hops+1 {
		user = st.lastUser
	}
	if user == nil || len(user.args) == 0 {
		return
	}
	u := unquote(strings.TrimSpace(user.args[0]))
	if u != "root" && u != "0" && !strings.HasPrefix(u, "root:") && !strings.HasPrefix(u, "0:") {
		return
	}
	l.at(user, ruleRootUser, u,
		"the final stage runs as root (USER %s): switch to an unprivileged user after the steps that need root", u)
}

// workdir reports a relative WORKDIR (DL3000).
func (l *linter) workdir(in *instr) {
	if len(in.args) == 0 {
		return
	}
	p := unquote(strings.TrimSpace(in.args[0]))
	if p == "" || isAbsPath(p) || strings.HasPrefix(p, "$") {
		return
	}
	l.at(in, ruleWorkdirRelative, p, "relative WORKDIR %q depends on the WORKDIR before it: use an absolute path (/%s)", p, p)
}

// isAbsPath accepts Unix paths and the Windows forms C:\, C:/ and \.
func isAbsPath(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}

// maintainer reports the deprecated MAINTAINER (DL4000).
func (l *linter) maintainer(in *instr) {
	who := ""
	if len(in.args) > 0 {
		who = strings.TrimSpace(in.args[0])
	}
	l.at(in, ruleMaintainer, "", "deprecated MAINTAINER: use LABEL org.opencontainers.image.authors=%s", strconv.Quote(unquote(who)))
}

// expose reports ports outside 0-65535 (DL3011).
func (l *linter) expose(in *instr) {
	for _, arg := range in.args {
		port, _, _ := strings.Cut(arg, "/") // drop /tcp, /udp, /sctp
		if port == "" || strings.Contains(port, "$") {
			continue
		}
		lo, hi, isRange := strings.Cut(port, "-")
		ports := []string{lo}
		if isRange {
			ports = append(ports, hi)
		}
		for _, p := range ports {
			if !isDigits(p) {
				l.at(in, rulePort, arg, "port %q in EXPOSE is not a number", arg)
				return
			}
			n, err := strconv.Atoi(p)
			if err != nil || n > 65535 {
				l.at(in, rulePort, arg, "port %q in EXPOSE is outside 0-65535", arg)
				return
			}
		}
	}
}
