package dockerfile

import (
	"strconv"
	"strings"
)

// archiveSuffixes are the files ADD unpacks, the one local use of ADD that
// COPY cannot replace. The list follows hadolint's.
var archiveSuffixes = []string{
	".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tb2", ".tar.xz",
	".txz", ".tar.lz", ".tlz", ".tar.lzma", ".tlzma", ".tar.zst", ".tzst",
	".tar.z", ".tz", ".gz", ".bz2", ".xz", ".lz", ".lzma", ".zst", ".z",
}

// sourcesAndDest splits ADD/COPY arguments. ok is false when there is no
// destination, which validate already reports.
func sourcesAndDest(in *instr) (srcs []string, dest string, ok bool) {
	if len(in.args) < 2 {
		return nil, "", false
	}
	return in.args[:len(in.args)-1], in.args[len(in.args)-1], true
}

// add reports ADD where every source is a plain local path (DL3020).
func (l *linter) add(in *instr) {
	srcs, _, ok := sourcesAndDest(in)
	if !ok || hasFlag(in.flags, "checksum") || hasFlag(in.flags, "keep-git-dir") {
		return // those flags only make sense for remote sources
	}
	for _, s := range srcs {
		s = unquote(s)
		if isRemote(s) || isArchive(s) || strings.Contains(s, "$") {
			return // a variable may hold a URL
		}
	}
	l.at(in, ruleAdd, "", "use COPY instead of ADD for local %s: ADD also unpacks archives and fetches URLs, COPY does only the copy", quoteList(srcs))
}

func isRemote(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git@")
}

func isArchive(s string) bool {
	s = strings.ToLower(s)
	for _, suf := range archiveSuffixes {
		if strings.HasSuffix(s, suf) {
			return true
		}
	}
	return false
}

// copyDest reports several sources copied to a destination that is not a
// directory (DL3021); BuildKit refuses the build.
func (l *linter) copyDest(in *instr) {
	srcs, dest, ok := sourcesAndDest(in)
	if !ok || len(srcs) < 2 {
		return
	}
	d := unquote(dest)
	if strings.HasSuffix(d, "/") || strings.HasSuffix(d, `\`) || strings.HasPrefix(d, "$") && !strings.ContainsAny(d, "/\\") {
		return
	}
	l.at(in, ruleCopyDest, "", "destination %q of a %s with %d sources must be a directory ending in / (%s/)", d, upper(in.cmd), len(srcs), d)
}

// copyFrom checks COPY --from against the stages defined so far
// (DL3022, DL3023).
func (l *linter) copyFrom(in *instr, cur *stage) {
	from, ok := flagValue(in.flags, "from")
	if !ok || from == "" || strings.Contains(from, "$") {
		return // a variable may name any stage or image
	}
	if cur == nil {
		cur = &stage{} // before any FROM: no stage is defined yet
	}
	token := "--from=" + from
	if n, err := strconv.Atoi(from); err == nil && isDigits(from) {
		switch {
		case n == cur.index:
			l.at(in, ruleCopyFromSelf, token, "stage %d copies --from=%d, which is itself: a stage cannot copy from itself", n, n)
		case n > cur.index:
			l.at(in, ruleCopyFromUnknown, token, "stage index %d in COPY --from does not exist before this stage (it has %d earlier)", n, cur.index)
		}
		return
	}
	if cur.name != "" && strings.EqualFold(from, cur.name) {
		l.at(in, ruleCopyFromSelf, token, "stage %q copies --from=%s, which is itself: a stage cannot copy from itself", cur.name, from)
		return
	}
	if l.stageNamed(from) != nil {
		return
	}
	if strings.ContainsAny(from, ":/@") {
		return // an image reference, pulled on purpose
	}
	l.at(in, ruleCopyFromUnknown, token, "stage %q in COPY --from is not defined before this COPY, so BuildKit pulls it as an image: define the stage earlier or tag the image (%s:<version>)", from, from)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// flagValue returns the value of --name=value among an instruction's flags.
func flagValue(flags []string, name string) (string, bool) {
	var v string
	var ok bool
	for _, f := range flags {
		k, val, has := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if has && strings.EqualFold(k, name) {
			v, ok = val, true // the last one wins, as in BuildKit
		}
	}
	return v, ok
}

func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		k, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// unquote strips one pair of matching quotes, which BuildKit's parser
// leaves on some arguments.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
