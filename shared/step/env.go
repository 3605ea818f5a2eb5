package step

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/ci"
)

// EnvNames lists, in order of precedence, the variables a flag is read
// from: GITSHIP_FOO_BAR for everyone, INPUT_FOO-BAR as GitHub passes input
// "foo-bar" (hyphens kept), INPUT_FOOBAR as Azure passes input "fooBar"
// (task.json names cannot hold hyphens), INPUT_FOO_BAR for GitHub inputs
// spelt with underscores.
func EnvNames(flag string) []string {
	up := strings.ToUpper(flag)
	names := []string{
		"GITSHIP_" + strings.ReplaceAll(up, "-", "_"),
		"INPUT_" + up,
		"INPUT_" + strings.ReplaceAll(up, "-", ""),
		"INPUT_" + strings.ReplaceAll(up, "-", "_"),
	}
	return dedupe(names)
}

// AzureInputName is the camelCase task.json name of a flag: fail-on → failOn.
func AzureInputName(flag string) string { return ci.AzureName(flag) }

// argsFromEnv turns environment inputs into command-line arguments for the
// flags the command line did not set, so the command line always wins and
// one parser handles both. Empty values count as unset: GitHub and Azure
// pass every declared input, given or not. A list input is split on new
// lines, or on commas when it has a single line and is not one of
// lineLists.
func argsFromEnv(flags []cli.Flag, given map[string]bool, env ci.Env, lineLists []string) []string {
	var args []string
	for _, f := range flags {
		name := f.Names()[0]
		if given[name] {
			continue
		}
		val, ok := lookup(env, name)
		if !ok {
			continue
		}
		if isMulti(f) {
			items := SplitList(val)
			if slices.Contains(lineLists, name) {
				items = SplitLines(val)
			}
			for _, item := range items {
				args = append(args, "--"+name+"="+item)
			}
			continue
		}
		args = append(args, "--"+name+"="+strings.TrimSpace(val))
	}
	return args
}

func lookup(env ci.Env, flag string) (string, bool) {
	for _, k := range EnvNames(flag) {
		if v, ok := env[k]; ok && strings.TrimSpace(v) != "" {
			return v, true
		}
	}
	return "", false
}

// SplitList splits a list input: by lines when it has several, else by
// commas; items are trimmed and empty ones dropped.
func SplitList(val string) []string {
	sep := ","
	if strings.ContainsAny(val, "\n") {
		sep = "\n"
	}
	var out []string
	for _, item := range strings.Split(val, sep) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// SplitLines splits a list input whose items may hold commas: by lines
// only; items are trimmed and empty ones dropped.
func SplitLines(val string) []string {
	var out []string
	for _, item := range strings.Split(val, "\n") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func isMulti(f cli.Flag) bool {
	m, ok := f.(cli.DocGenerationSliceFlag)
	return ok && m.IsSliceFlag()
}

// givenFlags finds the flags present on the command line (--name, --name=v,
// -alias), stopping at "--".
func givenFlags(flags []cli.Flag, args []string) map[string]bool {
	byName := map[string]string{}
	for _, f := range flags {
		for _, n := range f.Names() {
			byName[n] = f.Names()[0]
		}
	}
	given := map[string]bool{}
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		n := strings.TrimLeft(a, "-")
		n, _, _ = strings.Cut(n, "=")
		if canon, ok := byName[n]; ok {
			given[canon] = true
		}
	}
	return given
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
