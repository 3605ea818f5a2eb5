package steptest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/citest"
)

// Marker is in every Hostile text where a command would put its name, data
// or first property value, so NoInjection can tell a command the input
// made from one the step meant.
const Marker = "INJECTED"

// Hostile are texts that GitHub or Azure would read as commands if a step
// printed them raw: each workflow-command and logging-command form, behind
// white space, a zero-width space, after a bare CR, in any case.
var Hostile = []string{
	"::error::" + Marker,
	"::set-output name=" + Marker + "::x",
	"  ::add-mask::" + Marker,
	"\u200b::stop-commands::" + Marker,
	"##[set-env name=" + Marker + ";]x",
	"##[group]" + Marker,
	"ok ##vso[task.setvariable variable=" + Marker + "]x",
	"##VSO[task.complete result=Failed;]" + Marker,
	"x\r::warning::" + Marker,
}

// HostileText is every Hostile text, one a line.
var HostileText = strings.Join(Hostile, "\n")

// CIEnv is the environment GitHub Actions ("github") or Azure Pipelines
// ("azure") gives a step run in the checkout ws, with its files in tmp.
func CIEnv(kind, ws, tmp string) map[string]string {
	if kind == "azure" {
		return map[string]string{
			"TF_BUILD": "True", "BUILD_SOURCESDIRECTORY": ws, "BUILD_SOURCEVERSION": "0123456789abcdef0123456789abcdef01234567",
			"BUILD_SOURCEBRANCH": "refs/heads/main", "BUILD_BUILDID": "5", "AGENT_TEMPDIRECTORY": tmp,
			"SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "app",
		}
	}
	return map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
		"GITHUB_REF": "refs/heads/main", "GITHUB_REPOSITORY": "acme/app", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_RUN_ID": "1", "GITHUB_OUTPUT": filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary"),
	}
}

// NoInjection fails t when the CI named kind would read, in the run's
// stdout or stderr, a command the step did not mean (citest.Injected with
// Marker), and when a run that ended on bad input (exit 2) did not write
// its error on the CI's error channel exactly once.
func NoInjection(t testing.TB, kind string, res Result) {
	t.Helper()
	if errs := ErrorCommand(kind, res); res.Code == 2 && len(errs) != 1 {
		t.Errorf("exit 2, error commands on stderr = %q, want the error once\n%s", errs, res.Stderr)
	}
	for name, log := range map[string]string{"stdout": res.Stdout, "stderr": res.Stderr} {
		if bad := citest.Injected(kind, log, Marker); len(bad) > 0 {
			var lines []string
			for _, c := range bad {
				lines = append(lines, c.Line)
			}
			t.Errorf("%s reads commands in %s that the step did not mean:\n%s\n--- %s:\n%s", kind, name, strings.Join(lines, "\n"), name, log)
		}
	}
}

// ErrorCommand returns the data of the error commands (::error::,
// task.logissue type=error) in the run's stderr, decoded.
func ErrorCommand(kind string, res Result) []string {
	var out []string
	for _, c := range citest.Commands(kind, res.Stderr) {
		if c.Name == "error" || c.Name == "task.logissue" && strings.Contains(c.Properties, "type=error") {
			out = append(out, citest.Unescape(kind, c.Data))
		}
	}
	return out
}

// NoSecret fails t when a secret shows in the run's output anywhere but in
// the commands that mask it (::add-mask::, ##vso[task.setsecret]), or
// in the files given. A part of a secret counts too: every piece of 4 or
// more characters between the characters that end a URL's password or
// start an escape in it ('/', '#', '?', '@', ':', ' ', '%'), as a URL
// parser cuts a password short and quotes the rest in its error.
func NoSecret(t testing.TB, res Result, files map[string]string, secrets ...string) {
	t.Helper()
	secrets = withFragments(secrets)
	for i, l := range strings.Split(res.Stdout+"\n"+res.Stderr, "\n") {
		if strings.HasPrefix(l, "::add-mask::") || strings.HasPrefix(l, "##vso[task.setsecret]") {
			continue
		}
		for _, s := range secrets {
			if strings.Contains(l, s) {
				t.Errorf("output line %d shows the secret %q: %q", i, s, l)
			}
		}
	}
	for name, content := range files {
		for _, s := range secrets {
			if strings.Contains(content, s) {
				t.Errorf("%s holds the secret %q:\n%s", name, s, content)
			}
		}
	}
}

// Masked returns the values the run asked the CI named kind to mask.
func Masked(kind string, res Result) map[string]bool {
	m := map[string]bool{}
	for _, c := range citest.Commands(kind, res.Stdout+"\n"+res.Stderr) {
		if c.Name == "add-mask" || c.Name == "task.setsecret" {
			m[citest.Unescape(kind, c.Data)] = true
		}
	}
	return m
}

// withFragments is secrets and, after them, every piece of each between
// the characters a URL parser splits a password on, of 4 or more
// characters, once.
func withFragments(secrets []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range secrets {
		add(s)
	}
	for _, s := range secrets {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("/#?@: %", r) }) {
			if len(f) >= 4 {
				add(f)
			}
		}
	}
	return out
}
