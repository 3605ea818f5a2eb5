package dockerfile

import (
	"regexp"
	"strings"
)

// rpmTool is what the yum, dnf and zypper rules need to know of one
// package manager.
type rpmTool struct {
	names     []string // command names
	valued    map[string]bool
	yes       []string // options that answer the prompts
	yesRule   string   // the rule for a missing yes option, "" if none
	pinRule   string
	pinned    func(string) bool
	cleanRule string
	// clean reports whether a call of the same tool cleans its cache.
	clean func(sub string, ops []string) bool
	// cacheDirs are removed by rm -rf, or mounted as caches, instead.
	cacheDirs []string
}

var (
	yumValued = optionSet("-c --config --installroot --releasever --enablerepo --disablerepo -x --exclude --setopt " +
		"--repo --repoid --repofrompath -d --debuglevel -e --errorlevel --downloaddir --destdir --forcearch " +
		"--color --rpmverbosity --comment --advisory --bz --cve --sec-severity")
	zypperValued = optionSet("--root -R -D --reposd-dir -C --cache-dir -t --type -r --repo --from -c --config " +
		"--raw-cache-dir --solv-cache-dir --pkg-cache-dir")
	// rpmVersioned is name-version: a dash followed by a digit (tomcat-9.2,
	// openssl-1:1.1.1k, gcc-c++-1.1.1).
	rpmVersioned = regexp.MustCompile(`-[0-9]`)
)

func rpmPinned(p string) bool {
	return rpmVersioned.MatchString(p) || strings.HasSuffix(p, ".rpm") || isLocalPath(p)
}

func yumClean(sub string, ops []string) bool {
	return sub == "clean" && len(ops) > 0 && ops[0] == "all"
}

var rpmTools = []rpmTool{
	{
		names: []string{"yum"}, valued: yumValued, yes: []string{"-y", "--assumeyes"},
		yesRule: ruleYumYes, pinRule: ruleYumPin, pinned: rpmPinned,
		cleanRule: ruleYumClean, clean: yumClean, cacheDirs: []string{"/var/cache/yum"},
	},
	{
		names: []string{"dnf", "microdnf"}, valued: yumValued, yes: []string{"-y", "--assumeyes"},
		yesRule: ruleDnfYes, pinRule: ruleDnfPin, pinned: rpmPinned,
		cleanRule: ruleDnfClean, clean: yumClean, cacheDirs: []string{"/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"},
	},
	{
		names: []string{"zypper"}, valued: zypperValued, yes: []string{"-y", "--no-confirm", "-n", "--non-interactive"},
		yesRule: ruleZypperYes, pinRule: ruleZypperPin,
		pinned: func(p string) bool {
			return strings.ContainsAny(p, "=<>") || strings.HasSuffix(p, ".rpm") || isLocalPath(p)
		},
		cleanRule: ruleZypperClean,
		clean: func(sub string, _ []string) bool {
			return sub == "clean" || sub == "cc"
		},
		cacheDirs: []string{"/var/cache/zypp"},
	},
}

// rpmInstalls are the subcommands that install packages and may prompt.
var rpmInstalls = map[string]bool{"install": true, "in": true, "groupinstall": true, "localinstall": true, "reinstall": true}

// rpm applies the yum, dnf and zypper rules to one RUN: a yes option
// (DL3030, DL3038, DL3034), versions (DL3033, DL3041, DL3037), the cache
// cleaned after the install (DL3032, DL3040, DL3036) and zypper
// dist-upgrade (DL3035).
func (l *linter) rpm(in *instr, s script) {
	for _, tool := range rpmTools {
		var loose []string
		noYes, dirty := false, "" // dirty: the tool that installed since the last clean
		first := ""
		for _, c := range s.calls {
			if c.name == "rm" && dirty != "" {
				for _, a := range c.args {
					for _, d := range tool.cacheDirs {
						if a == d || strings.HasPrefix(a, d+"/") {
							dirty = ""
						}
					}
				}
			}
			if !containsString(tool.names, c.name) {
				continue
			}
			sub, ops, opts := operands(c.args, tool.valued, false)
			if tool.clean(sub, ops) {
				if c.name == dirty {
					dirty = ""
				}
				continue
			}
			if tool.names[0] == "zypper" && (sub == "dist-upgrade" || sub == "dup") {
				l.at(in, ruleZypperDup, c.name, "zypper dist-upgrade in a build upgrades the whole distribution to whatever the mirror has: install the packages you need instead")
			}
			module := false
			if sub == "module" && len(ops) > 0 {
				sub, ops, module = ops[0], ops[1:], true
			}
			if !rpmInstalls[sub] {
				continue
			}
			if first == "" {
				first = c.name
			}
			dirty = c.name
			if !hasOption(opts, tool.yes...) && c.name != "microdnf" {
				noYes = true
			}
			pinned := tool.pinned
			if module {
				pinned = func(p string) bool { return strings.Contains(p, ":") }
			}
			loose = append(loose, unpinned(ops, pinned)...)
		}
		if first == "" {
			continue
		}
		if noYes {
			l.at(in, tool.yesRule, first, "%s install without %s waits for a confirmation the build cannot give: add %s", first, tool.yes[0], tool.yes[0])
		}
		if len(loose) > 0 {
			how := "pkg-1.2.3"
			if tool.names[0] == "zypper" {
				how = "pkg=1.2.3"
			}
			l.at(in, tool.pinRule, first, "%s installs %s without a version, so each build may get another: pin it (%s)", first, quoteList(loose), how)
		}
		if dirty != "" && !cachedAny(in.flags, tool.cacheDirs) {
			clean := dirty + " clean all"
			if tool.names[0] == "zypper" {
				clean = "zypper clean"
			}
			l.at(in, tool.cleanRule, dirty, "%s install without %s after it leaves the package cache in the layer", dirty, clean)
		}
	}
}

func cachedAny(flags, dirs []string) bool {
	for _, d := range dirs {
		if cacheMount(flags, d) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
