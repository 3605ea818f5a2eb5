package dockerfile

import (
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// validate reports what BuildKit's instruction parser rejects: unknown
// instructions, missing arguments, bad flags. These fail docker build just
// like a parse error, so they share DL1000. The rest of the rules still run
// on the instruction, because the raw AST is all they need.
func (l *linter) validate(in *instr) {
	if l.onbuildTrigger(in) {
		return
	}
	if err := parseInstruction(in); err != nil {
		l.at(in, ruleSyntax, "", "syntax error: %s", oneLine(err.Error()))
	}
}

// parseInstruction calls BuildKit, turning a panic inside it into "no
// error": the linter must never crash on input, and a panic there says
// nothing reliable about the Dockerfile.
func parseInstruction(in *instr) (err error) {
	defer func() {
		if recover() != nil {
			err = nil
		}
	}()
	_, err = instructions.ParseInstruction(in.node)
	return err
}

// checkOrder reports the first instruction other than ARG before any FROM
// (DL3061). BuildKit fails those with "no build stage in current context".
func (l *linter) checkOrder(in *instr) {
	if l.beforeFrom || !knownInstruction(in.cmd) {
		return
	}
	l.beforeFrom = true
	l.at(in, ruleOrder, "", "instruction %s before the first FROM: only ARG may come before FROM", upper(in.cmd))
}

func knownInstruction(cmd string) bool {
	switch cmd {
	case "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from",
		"healthcheck", "label", "maintainer", "onbuild", "run", "shell",
		"stopsignal", "user", "volume", "workdir":
		return true
	}
	return false
}
