package dockerfile

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/finding"
)

// hadolintCase is one expectation of hadolint's own tests, restated as data
// in testdata/hadolint (see the README there).
type hadolintCase struct {
	rule, name, src string
	// want is the number of findings expected: -1 for "at least one", 0 for
	// none, n for exactly n, -2 when hadolint checks only the ONBUILD form.
	want int
	// onbuild is the expectation with every RUN wrapped in ONBUILD, or -2
	// when hadolint's test does not check that form.
	onbuild int
	// cfg is the configuration the case is linted with.
	cfg Config
}

// hadolintDiffers are the cases where gitship disagrees with hadolint on
// purpose, keyed "RULE/name" (+ " (onbuild)" for the ONBUILD form), with
// the reason. The test fails if one of them starts to agree, so that this
// list stays true.
var hadolintDiffers = map[string]string{
	"DL3002/warns on multiple stages": "only the final stage's user runs the container; gitship reports root in the image that ships, " +
		"not in a build stage that switched to root and was left there",
	"DL3009/warn: BuildKit cache mount to apt lists directory only": "a cache mount on /var/lib/apt covers /var/lib/apt/lists, so the lists never reach " +
		"the layer; hadolint wants /var/cache/apt cached too, which is about the .deb cache, not the lists",
	"DL3009/warn: BuildKit cache mount to apt lists directory only (onbuild)": "as above",
}

var hadolintHeader = regexp.MustCompile(`^### (catches|catches=\d+|ok|-)(?: onbuild=(catches|ok))?(?: trusted=(\S+))?(?: schema=(\S+))?( strict)?: (.+)$`)

func loadHadolintCases(t *testing.T) []hadolintCase {
	t.Helper()
	files, err := filepath.Glob("testdata/hadolint/DL*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no hadolint cases: %v", err)
	}
	var out []hadolintCase
	for _, file := range files {
		rule := strings.TrimSuffix(filepath.Base(file), ".txt")
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		var cur *hadolintCase
		var lines []string
		flush := func() {
			if cur != nil {
				cur.src = strings.Join(lines, "\n") + "\n"
				out = append(out, *cur)
			}
			lines = nil
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.HasPrefix(line, "###") {
				m := hadolintHeader.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("%s:%d: bad case header %q", file, n, line)
				}
				flush()
				cur = &hadolintCase{rule: rule, name: m[6], want: expectation(m[1]), onbuild: -2}
				if m[3] != "" {
					cur.cfg.TrustedRegistries = strings.Split(m[3], ",")
				}
				if m[4] != "" {
					cur.cfg.LabelSchema = map[string]string{}
					for _, kv := range strings.Split(m[4], ",") {
						k, v, _ := strings.Cut(kv, ":")
						cur.cfg.LabelSchema[k] = v
					}
				}
				cur.cfg.StrictLabels = m[5] != ""
				if m[2] != "" {
					cur.onbuild = expectation(m[2])
					if cur.onbuild < 0 {
						cur.onbuild = 1 // hadolint's onBuildRuleCatches wants exactly one
					}
				}
				continue
			}
			if cur != nil {
				lines = append(lines, line)
			}
		}
		flush()
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func expectation(s string) int {
	switch {
	case s == "-":
		return -2
	case s == "ok":
		return 0
	case s == "catches":
		return -1
	default:
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "catches="))
		return n
	}
}

// wrapOnBuild puts ONBUILD before every RUN instruction, as hadolint's
// onBuildRuleCatches does.
func wrapOnBuild(src string) string {
	lines := strings.Split(src, "\n")
	cont := false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if !cont && len(t) >= 4 && strings.EqualFold(t[:4], "run ") {
			lines[i] = "ONBUILD " + l
		}
		if !strings.HasPrefix(t, "#") {
			cont = strings.HasSuffix(t, `\`)
		}
	}
	return strings.Join(lines, "\n")
}

func countRule(src, rule string, cfg Config) int {
	if defaultSeverity(rule) == finding.None {
		// Off by default in both; hadolint's tests see it anyway.
		cfg.Override = map[string]finding.Severity{rule: finding.Info}
	}
	n := 0
	for _, f := range Lint("Dockerfile", []byte(src), Options{Config: cfg}) {
		if f.RuleID == rule {
			n++
		}
	}
	return n
}

func agrees(got, want int) bool {
	if want < 0 {
		return got > 0
	}
	return got == want
}

// TestHadolintExpectations lints every case of hadolint's own rule tests
// and reports how many gitship agrees with, per rule. A disagreement that
// hadolintDiffers does not explain fails the test.
func TestHadolintExpectations(t *testing.T) {
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
	}
	type tally struct{ agree, total int }
	perRule := map[string]*tally{}
	explained := map[string]bool{}
	check := func(rule, key, src string, want int, cfg Config) {
		tl := perRule[rule]
		if tl == nil {
			tl = &tally{}
			perRule[rule] = tl
		}
		tl.total++
		got := countRule(src, rule, cfg)
		ok := agrees(got, want)
		reason, differs := hadolintDiffers[key]
		switch {
		case ok && differs:
			t.Errorf("%s: now agrees with hadolint; drop it from hadolintDiffers", key)
		case !ok && differs:
			explained[key] = true
			t.Logf("%s: differs on purpose: %s", key, reason)
		case !ok:
			t.Errorf("%s: %d findings, hadolint expects %s\n%s", key, got, describe(want), src)
		}
		if ok {
			tl.agree++
		}
	}
	for _, c := range loadHadolintCases(t) {
		if !known[c.rule] {
			t.Errorf("%s: gitship has no such rule", c.rule)
			continue
		}
		key := c.rule + "/" + c.name
		if c.want != -2 {
			check(c.rule, key, c.src, c.want, c.cfg)
		}
		if c.onbuild != -2 {
			check(c.rule, key+" (onbuild)", wrapOnBuild(c.src), c.onbuild, c.cfg)
		}
	}
	for key := range hadolintDiffers {
		if !explained[key] {
			t.Errorf("hadolintDiffers has %q, which is no disagreeing case", key)
		}
	}
	rules := make([]string, 0, len(perRule))
	agree, total := 0, 0
	for r, tl := range perRule {
		rules = append(rules, r)
		agree += tl.agree
		total += tl.total
	}
	slices.Sort(rules)
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, " %s %d/%d", r, perRule[r].agree, perRule[r].total)
	}
	t.Logf("agreement with hadolint's expectations: %d of %d cases over %d rules;%s", agree, total, len(rules), b.String())
}

func describe(want int) string {
	switch {
	case want < 0:
		return "at least one"
	case want == 0:
		return "none"
	default:
		return strconv.Itoa(want)
	}
}
