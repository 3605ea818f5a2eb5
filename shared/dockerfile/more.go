package dockerfile

import (
	"path"
	"regexp"
	"strings"
)

// platformFlag reports FROM --platform with a fixed value (DL3029): it
// pins the stage to one platform, so a multi-platform build emulates it or
// fails. $BUILDPLATFORM and $TARGETPLATFORM are what --platform is for.
func (l *linter) platformFlag(in *instr) {
	p, ok := flagValue(in.flags, "platform")
	if !ok || strings.Contains(p, "$") {
		return
	}
	l.at(in, rulePlatform, "--platform="+p, "fixed --platform=%s in FROM pins this stage to one platform: drop it, or use $BUILDPLATFORM or $TARGETPLATFORM", p)
}

// trustedRegistry reports a base image from a registry that the
// configuration's trustedRegistries does not list (DL3026).
func (l *linter) trustedRegistry(in *instr, image string, trusted []string) {
	if len(trusted) == 0 || image == "" || strings.EqualFold(image, "scratch") {
		return
	}
	reg := registryOf(image)
	if strings.Contains(reg, "$") {
		return // a build arg names it
	}
	for _, t := range trusted {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "*" || t == reg || strings.HasPrefix(t, "*.") && strings.HasSuffix(reg, t[1:]) ||
			t == "docker.io" && (reg == "index.docker.io" || reg == "registry-1.docker.io") {
			return
		}
	}
	l.at(in, ruleRegistry, image, "base image %q comes from %s, which is not in trustedRegistries", image, reg)
}

// registryOf returns the registry host of an image reference, docker.io
// for Docker Hub's short forms.
func registryOf(image string) string {
	first, _, ok := strings.Cut(image, "/")
	if !ok || !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "docker.io"
	}
	return strings.ToLower(first)
}

// onbuildTrigger reports ONBUILD ONBUILD, FROM and MAINTAINER (DL3043),
// which BuildKit refuses. It returns true when it did, so that validate
// does not report the same instruction as DL1000 too.
func (l *linter) onbuildTrigger(in *instr) bool {
	if in.cmd != "onbuild" || in.node.Next == nil || len(in.node.Next.Children) == 0 {
		return false
	}
	t := strings.ToLower(in.node.Next.Children[0].Value)
	if t != "onbuild" && t != "from" && t != "maintainer" {
		return false
	}
	l.at(in, ruleOnbuildTrigger, "", "trigger %s in ONBUILD is not allowed: a trigger cannot be ONBUILD, FROM or MAINTAINER", upper(t))
	return true
}

// envVarRef matches $NAME and ${NAME...} references.
var envVarRef = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))`)

// envSelfRef reports an ENV that uses a variable it sets earlier in the
// same instruction (DL3044): the reference still sees the old value.
func (l *linter) envSelfRef(in *instr) {
	set := map[string]bool{}
	for i := 0; i+1 < len(in.args); i += 3 {
		name, value := in.args[i], in.args[i+1]
		for _, m := range envVarRef.FindAllStringSubmatch(value, -1) {
			ref := m[1] + m[2]
			if set[ref] {
				l.at(in, ruleEnvSelfRef, "", "this ENV sets %s and uses $%s, which still has its old value within the same ENV: split it in two", ref, ref)
				return
			}
		}
		set[name] = true
	}
}

// labelKey is Docker's recommended label key format: lower-case letters
// and digits, separated by single dots or dashes, starting with a letter
// and ending with a letter or digit.
var labelKey = regexp.MustCompile(`^[a-zA-Z](?:[a-zA-Z0-9]|[.-][a-zA-Z0-9])*$`)

// labelKeys reports LABEL keys that break Docker's key format or use a
// namespace Docker reserves (DL3048).
func (l *linter) labelKeys(in *instr) {
	for i := 0; i < len(in.args); i += 3 {
		k := unquote(in.args[i])
		lower := strings.ToLower(k)
		switch {
		case strings.HasPrefix(lower, "com.docker.") || strings.HasPrefix(lower, "io.docker.") || strings.HasPrefix(lower, "org.dockerproject."):
			l.at(in, ruleLabelKey, "", "label key %q uses a namespace Docker reserves (com.docker., io.docker., org.dockerproject.)", k)
		case strings.HasPrefix(k, "$"):
			continue // a build arg names it
		case !labelKey.MatchString(k):
			l.at(in, ruleLabelKey, "", "label key %q is not a valid key: letters and digits separated by single . or -, starting with a letter", k)
		default:
			continue
		}
		return
	}
}

// useradd reports useradd with a UID above 99999 and without -l (DL3046):
// the lastlog and faillog files are sparse files sized by the UID, and
// the layer stores them in full.
func (l *linter) useradd(in *instr, s script) {
	for _, c := range s.calls {
		if c.name != "useradd" {
			continue
		}
		uid, noLog := "", false
		for i, a := range c.args {
			switch {
			case a == "-l" || a == "--no-log-init":
				noLog = true
			case (a == "-u" || a == "--uid") && i+1 < len(c.args):
				uid = c.args[i+1]
			case strings.HasPrefix(a, "--uid="):
				uid = strings.TrimPrefix(a, "--uid=")
			case strings.HasPrefix(a, "-u") && len(a) > 2 && isDigits(a[2:]):
				uid = a[2:]
			case len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.Contains(a[1:], "l") && !strings.ContainsAny(a[1:], "ucdgGkKpsbe"):
				noLog = true
			}
		}
		if !noLog && isDigits(uid) && len(uid) > 5 {
			l.at(in, ruleUseradd, "useradd", "useradd -u %s without -l makes lastlog and faillog files sized by the UID in the layer: add -l (--no-log-init)", uid)
			return
		}
	}
}

// yarnDirs are where yarn keeps its cache.
var yarnDirs = []string{"/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/home/node/.cache/yarn", "/root/.yarn/berry/cache"}

// yarnCache reports yarn install without yarn cache clean after it
// (DL3060). Like DL3009 it counts only for stages that reach an image.
func (l *linter) yarnCache(in *instr, s script, cur *stage) {
	dirty := false
	for _, c := range s.calls {
		if c.name != "yarn" {
			continue
		}
		sub, ops, _ := operands(c.args, nil, false)
		switch {
		case sub == "install" || sub == "add" || sub == "":
			dirty = sub != "" || len(c.args) == 0
		case sub == "cache" && len(ops) > 0 && ops[0] == "clean":
			dirty = false
		}
	}
	if !dirty || cachedAny(in.flags, yarnDirs) {
		return
	}
	report := func() {
		l.at(in, ruleYarnCache, "yarn", "yarn install without yarn cache clean after it leaves the package cache in the layer")
	}
	if cur == nil || in.onbuild {
		report()
		return
	}
	cur.kept = append(cur.kept, report)
}

// goInstall reports go install of a package without @version (DL3062).
func (l *linter) goInstall(in *instr, s script) {
	var loose []string
	for _, c := range s.calls {
		if c.name != "go" {
			continue
		}
		sub, ops, _ := operands(c.args, goValued, false)
		if sub != "install" {
			continue
		}
		for _, p := range ops {
			if strings.Contains(p, "@") || strings.Contains(p, "$") || strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/") ||
				!strings.Contains(p, ".") && !strings.Contains(p, "/") || strings.HasSuffix(p, ".go") {
				continue // pinned, a variable, local, std or a file
			}
			if at := strings.LastIndex(p, "@"); at < 0 && path.Base(p) != "" {
				loose = append(loose, p)
			}
		}
	}
	if len(loose) > 0 {
		l.at(in, ruleGoPin, "go", "go install %s without @version builds whatever the module's default branch has that day: add @v1.2.3", quoteList(loose))
	}
}

var goValued = optionSet("-o -p -C -tags -ldflags -gcflags -asmflags -gccgoflags -mod -modfile -overlay -pgo -pkgdir -toolexec -exec -covermode -coverpkg")

// archives copied and extracted: DL3010.

// copiedArchives records local archives a COPY puts in the image, by base
// name of the source and of the destination.
func (l *linter) copiedArchives(in *instr, cur *stage) {
	if cur == nil {
		cur = &l.preamble
	}
	if hasFlag(in.flags, "from") {
		return
	}
	srcs, dest, ok := sourcesAndDest(in)
	if !ok {
		return
	}
	for _, s := range srcs {
		s = unquote(s)
		if isRemote(s) || !isArchive(s) {
			continue
		}
		if cur.archives == nil {
			cur.archives = map[string]bool{}
		}
		cur.archives[baseName(s)] = true
		// BuildKit splits a quoted destination with spaces at the spaces;
		// its last piece still ends in the quote.
		if d := strings.Trim(dest, `"'`); isArchive(d) {
			cur.archives[baseName(d)] = true
		}
	}
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// extractsCopied reports tar -x of an archive the stage copied in
// (DL3010): ADD unpacks it in one layer instead of two.
func (l *linter) extractsCopied(in *instr, s script, cur *stage) {
	if cur == nil {
		cur = &l.preamble
	}
	if len(cur.archives) == 0 {
		return
	}
	for _, c := range s.calls {
		if c.name != "tar" || !tarExtracts(c.args) {
			continue
		}
		for _, a := range c.args {
			if cur.archives[baseName(a)] {
				l.at(in, ruleAddArchive, "tar", "%s is copied in and then extracted: ADD %s <dir> extracts it in one layer instead of two", baseName(a), baseName(a))
				return
			}
		}
	}
}

func tarExtracts(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--extract" || a == "--get":
			return true
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && strings.Contains(a, "x"):
			return true
		case i == 0 && strings.Contains(a, "x") && !strings.ContainsAny(a, "/."):
			return true // old-style tar xf
		}
	}
	return false
}

// inlinePragmas reports the inline ignore pragmas in the comments right
// above the instruction on line start (DL1001, off by default): some teams
// want every exception in .hadolint.yaml, where it is reviewed.
func (l *linter) inlinePragmas(start int) {
	for line := start - 1; line >= 1 && line <= len(l.lines); line-- {
		t := strings.TrimSpace(l.lines[line-1])
		if t == "" {
			continue
		}
		if !strings.HasPrefix(t, "#") {
			return
		}
		if _, scope, ok := parsePragma(t[1:]); ok && scope == scopeNext {
			l.report(nil, ruleInlinePragma, line, 0, 0, "inline ignore pragma: record the exception in .hadolint.yaml instead")
		}
	}
}

// checkHealthcheck reports a final stage with no HEALTHCHECK of its own or
// of the stages it is built on (DL3057, off by default).
func (l *linter) checkHealthcheck() {
	last := l.current()
	if last == nil || last.from == nil {
		return
	}
	for st, hops := last, 0; st != nil && hops <= len(l.stages); st, hops = st.parent, hops+1 {
		if st.healthcheck != 0 {
			return
		}
	}
	l.at(last.from, ruleHealthMissing, "", "the image has no HEALTHCHECK: add one, so that the engine can tell a hung container from a working one")
}
