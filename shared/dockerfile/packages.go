package dockerfile

import (
	"regexp"
	"slices"
	"strings"
)

// packages applies the package-manager rules to one RUN: versions pinned
// (DL3008 apt-get, DL3013 pip, DL3016 npm, DL3018 apk, DL3028 gem) and
// caches kept out of the layer (DL3019 apk, DL3042 pip).
func (l *linter) packages(in *instr, s script, cur *stage) {
	var aptLoose, pipLoose, npmLoose, apkLoose, gemLoose []string
	apkCache, pipCache := false, false
	for _, c := range s.calls {
		switch {
		case c.name == "apt-get":
			if o := parseAptGet(c.args); o.command == "install" {
				aptLoose = append(aptLoose, unpinned(o.packages, aptPinned)...)
			}
		case c.name == "apk":
			sub, ops, opts := operands(c.args, apkValued, false)
			if sub != "add" {
				continue
			}
			apkLoose = append(apkLoose, unpinned(ops, apkPinned)...)
			if !slices.Contains(opts, "--no-cache") && !cacheMount(in.flags, "/var/cache/apk") {
				apkCache = true
			}
		case c.name == "npm":
			sub, ops, _ := operands(c.args, npmValued, false)
			if sub == "install" || sub == "i" || sub == "add" {
				npmLoose = append(npmLoose, unpinned(ops, npmPinned)...)
			}
		case c.name == "gem":
			sub, ops, opts := operands(c.args, gemValued, true)
			if (sub == "install" || sub == "i") && !hasOption(opts, "-v", "--version") {
				gemLoose = append(gemLoose, unpinned(ops, gemPinned)...)
			}
		default:
			args, ok := pipArgs(c)
			if !ok {
				continue
			}
			sub, ops, opts := operands(args, pipValued, false)
			if sub != "install" {
				continue
			}
			if !hasOption(opts, "-c", "--constraint") {
				pipLoose = append(pipLoose, unpinned(ops, pipPinned)...)
			}
			env := cur
			if env == nil {
				env = &l.preamble
			}
			if !slices.Contains(opts, "--no-cache-dir") && !pipNoCache(c.env, s.exports, env) &&
				!cacheMount(in.flags, "/root/.cache/pip") {
				pipCache = true
			}
		}
	}
	pin := func(id string, loose []string, tool, how string) {
		if len(loose) > 0 {
			l.at(in, id, tool, "%s installs %s without a version, so each build may get another: pin it (%s)", tool, quoteList(loose), how)
		}
	}
	pin(ruleAptPin, aptLoose, "apt-get", "pkg=1.2.3-1")
	pin(rulePipPin, pipLoose, "pip", "pkg==1.2.3, or a constraints file with -c")
	pin(ruleNpmPin, npmLoose, "npm", "pkg@1.2.3, or a package.json with a lock file")
	pin(ruleApkPin, apkLoose, "apk", "pkg=1.2.3-r0 or pkg~1.2")
	pin(ruleGemPin, gemLoose, "gem", "pkg:1.2.3 or -v 1.2.3")
	if apkCache {
		l.at(in, ruleApkCache, "apk", "apk add without --no-cache keeps the package index in the layer: add --no-cache or mount a cache on /var/cache/apk")
	}
	if pipCache {
		l.at(in, rulePipCache, "pip", "pip install without --no-cache-dir keeps the downloaded packages in the layer: add --no-cache-dir or set PIP_NO_CACHE_DIR=1")
	}
}

// unpinned returns the packages that pinned says carry no version. Words
// with a variable are left alone: the variable may hold the version.
func unpinned(pkgs []string, pinned func(string) bool) []string {
	var out []string
	for _, p := range pkgs {
		if p == "" || strings.Contains(p, "$") || pinned(p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// isLocalPath is a package given as a file or directory.
func isLocalPath(p string) bool {
	return p == "." || p == ".." || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "./") ||
		strings.HasPrefix(p, "../") || strings.HasPrefix(p, "~/")
}

func aptPinned(p string) bool {
	return strings.Contains(p, "=") || strings.HasSuffix(p, ".deb") || isLocalPath(p)
}

func apkPinned(p string) bool {
	return strings.ContainsAny(p, "=~<>") || strings.HasSuffix(p, ".apk") || isLocalPath(p)
}

func gemPinned(p string) bool {
	return strings.Contains(p, ":") || strings.HasSuffix(p, ".gem") || isLocalPath(p)
}

// pipPinned accepts version specifiers (==, ~=, >=, <, !=, ...), direct
// references with a ref (git+https://...@v1, name @ url) and local files.
func pipPinned(p string) bool {
	lower := strings.ToLower(p)
	for _, suf := range []string{".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2"} {
		if strings.HasSuffix(lower, suf) {
			return true
		}
	}
	if i := strings.Index(p, "://"); i >= 0 {
		// git+https://host/repo.git@ref#egg=name: the ref follows the path.
		rest, _, _ := strings.Cut(p[i+3:], "#")
		at := strings.LastIndexByte(rest, '@')
		return at >= 0 && strings.Contains(rest[:at], "/")
	}
	return strings.ContainsAny(p, "=<>!~@") || isLocalPath(p)
}

// npmPinned accepts name@version (after an optional @scope/), tarballs,
// folders, and git URLs with a #commit-ish.
func npmPinned(p string) bool {
	if isLocalPath(p) {
		return true
	}
	lower := strings.ToLower(p)
	for _, suf := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(lower, suf) {
			return true
		}
	}
	if strings.Contains(p, "://") || strings.HasPrefix(p, "git@") || strings.HasPrefix(p, "github:") {
		return strings.Contains(p, "#")
	}
	name := p
	if strings.HasPrefix(name, "@") {
		if _, rest, ok := strings.Cut(name, "/"); ok {
			name = rest
		}
	}
	return strings.Contains(name, "@")
}

// Options that take a value as the next argument, per tool.
var (
	apkValued = optionSet("-t --virtual -X --repository -p --root --keys-dir --repositories-file --cache-dir --arch --cache-max-age --timeout")
	npmValued = optionSet("--loglevel --registry --prefix --cache --userconfig --tag -w --workspace --omit --include --install-strategy")
	gemValued = optionSet("-v --version -s --source -i --install-dir -n --bindir --platform -P --trust-policy -g --file --document")
	pipValued = optionSet("-r --requirement -c --constraint -e --editable -i --index-url --extra-index-url -f --find-links " +
		"--build -b --prefix --root -t --target --trusted-host --src --upgrade-strategy --progress-bar --python-version " +
		"--platform --implementation --abi --global-option --install-option --cache-dir --log --proxy --retries " +
		"--timeout --exists-action --cert --client-cert --no-binary --only-binary -C --config-settings --report --python")
)

func optionSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, o := range strings.Fields(s) {
		m[o] = true
	}
	return m
}

// operands splits a command line into its subcommand (the first operand),
// the other operands and the options. Options in valued take the next
// argument when written without "=". After "--" nothing is read. With
// longTakesValue, an unknown long option (not --no-...) takes the next
// argument too, as gem's build flags do.
func operands(args []string, valued map[string]bool, longTakesValue bool) (sub string, ops, opts []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if len(a) > 1 && a[0] == '-' {
			name, _, hasVal := strings.Cut(a, "=")
			opts = append(opts, name)
			takes := valued[name] || longTakesValue && sub != "" && strings.HasPrefix(name, "--") &&
				!strings.HasPrefix(name, "--no-") && !gemFlags[name]
			if !hasVal && takes && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
			}
			continue
		}
		if sub == "" {
			sub = a
			continue
		}
		ops = append(ops, a)
	}
	return sub, ops, opts
}

// gemFlags are gem install's long options that take no value.
var gemFlags = optionSet("--user-install --conservative --minimal-deps --force --local --remote --both --verbose --quiet " +
	"--silent --pre --prerelease --default --explain --lock --suggestions --development --development-all " +
	"--env-shebang --format-executable --ignore-dependencies --norc --wrappers --vendor --post-install-message")

func hasOption(opts []string, names ...string) bool {
	for _, o := range opts {
		if slices.Contains(names, o) {
			return true
		}
	}
	return false
}

var pipName = regexp.MustCompile(`^pip[0-9.]*$`)
var pythonName = regexp.MustCompile(`^python[0-9.]*$`)

// pipArgs returns pip's arguments for pip, pip3, pip3.12 and python -m pip.
func pipArgs(c call) ([]string, bool) {
	if pipName.MatchString(c.name) {
		return c.args, true
	}
	if !pythonName.MatchString(c.name) {
		return nil, false
	}
	for i, a := range c.args {
		if a == "-m" && i+1 < len(c.args) {
			return c.args[i+2:], c.args[i+1] == "pip"
		}
		if !strings.HasPrefix(a, "-") {
			return nil, false // a script
		}
	}
	return nil, false
}

// pipNoCache reports whether PIP_NO_CACHE_DIR is on for a pip call: set
// before the command, exported earlier in the RUN, or an ENV of the stage
// or of the stages it is built on. The last setting wins.
func pipNoCache(env, exports []string, cur *stage) bool {
	for _, list := range [][]string{env, exports} {
		for i := len(list) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(list[i], "PIP_NO_CACHE_DIR="); ok {
				return truthy(v)
			}
		}
	}
	for st, hops := cur, 0; st != nil && hops < 64; st, hops = st.parent, hops+1 {
		if v, ok := st.env["PIP_NO_CACHE_DIR"]; ok {
			return truthy(v)
		}
	}
	return false
}

func truthy(v string) bool {
	switch strings.ToLower(unquote(strings.TrimSpace(v))) {
	case "1", "on", "yes", "true":
		return true
	}
	return false
}

// cacheMount reports whether a cache or tmpfs mount of the RUN covers dir.
func cacheMount(flags []string, dir string) bool {
	for _, m := range mounts(flags) {
		if (m.typ == "cache" || m.typ == "tmpfs") && m.target != "" && m.target != "." &&
			(m.target == dir || strings.HasPrefix(dir, strings.TrimSuffix(m.target, "/")+"/")) {
			return true
		}
	}
	return false
}

// downloads applies the wget and curl rules (DL3047, DL4001).
func (l *linter) downloads(in *instr, s script, cur *stage) {
	wget, curl := false, false
	for _, c := range s.calls {
		switch c.name {
		case "wget":
			wget = true
			if !wgetQuiet(c.args) {
				l.at(in, ruleWgetProgress, "wget", "wget without --progress prints a progress line per chunk and bloats the build log: add --progress=dot:giga, -q or -nv")
			}
		case "curl":
			curl = true
		}
	}
	if cur == nil || in.onbuild || !wget && !curl {
		return
	}
	cur.wget, cur.curl = cur.wget || wget, cur.curl || curl
	if cur.wget && cur.curl {
		l.at(in, ruleWgetCurl, "", "this stage uses both wget and curl: settle on one, so the image needs one download tool")
	}
}

// wgetQuiet: --progress, or output that does not go to the build log.
func wgetQuiet(args []string) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "--progress", "--quiet", "--no-verbose", "--output-file", "--append-output", "-nv":
			return true
		}
		if len(a) > 1 && a[0] == '-' && a[1] != '-' {
			for _, c := range a[1:] {
				if c == 'q' || c == 'o' || c == 'a' {
					return true
				}
				if strings.ContainsRune("OPeTtwUQiBYlARDXIN", c) {
					break // the rest is this option's value
				}
			}
		}
	}
	return false
}

// pointless are commands that make no sense in an image build (DL3001).
var pointless = map[string]bool{
	"ssh": true, "vim": true, "shutdown": true, "service": true, "ps": true,
	"free": true, "top": true, "kill": true, "mount": true, "ifconfig": true,
}

// commands reports commands that do nothing useful in a build (DL3001) and
// linking /bin/sh to another shell (DL4005).
func (l *linter) commands(in *instr, s script) {
	for _, c := range s.calls {
		if pointless[c.name] {
			l.at(in, ruleUselessCmd, c.name, "%s in RUN makes no sense in an image build: the build container has no services, terminal or other processes to manage", c.name)
			return
		}
	}
	for _, c := range s.calls {
		if c.name == "ln" && len(c.args) > 0 && path0(c.args[len(c.args)-1]) == "/bin/sh" {
			l.at(in, ruleShellLink, "ln", "linking /bin/sh to another shell changes it for every later RUN and for the image: use SHELL [\"/bin/bash\", \"-c\"] instead")
			return
		}
	}
}

func path0(p string) string { return strings.TrimSuffix(unquote(p), "/") }

// runInfo is what DL3059 remembers of the previous RUN of the stage.
type runInfo struct {
	line   int
	flags  []string
	single bool
}

// consecutive reports a RUN of one command right after another RUN of one
// command with the same flags (DL3059): two layers where one would do.
func (l *linter) consecutive(in *instr, s script) {
	if in.onbuild {
		return
	}
	prev := l.prevRun
	cur := &runInfo{line: in.line, flags: in.flags, single: s.commands <= 1}
	l.prevRun = cur
	if prev == nil || !prev.single || !cur.single || !slices.Equal(prev.flags, cur.flags) {
		return
	}
	l.at(in, ruleRunConsecutive, "", "one-command RUN right after the one-command RUN at line %d: join them with && into one layer", prev.line)
}

// copyRelative reports COPY to a relative destination in a stage where no
// WORKDIR was set (DL3045): the files land wherever the base image's
// WORKDIR points, which may change under you.
func (l *linter) copyRelative(in *instr, cur *stage) {
	_, dest, ok := sourcesAndDest(in)
	if !ok {
		return
	}
	d := unquote(dest)
	if d == "" || isAbsPath(d) || strings.HasPrefix(d, "$") {
		return
	}
	if cur != nil && (cur.hasWorkdir() || in.onbuild && cur.onbuildWorkdir) {
		return
	}
	l.at(in, ruleCopyRelative, dest, "relative COPY destination %q with no WORKDIR set in this stage depends on the base image's WORKDIR: set WORKDIR first or use an absolute path", d)
}

// hasWorkdir reports whether the stage or one it is built on set WORKDIR.
func (st *stage) hasWorkdir() bool {
	for s, hops := st, 0; s != nil && hops < 64; s, hops = s.parent, hops+1 {
		if s.workdir {
			return true
		}
	}
	return false
}
