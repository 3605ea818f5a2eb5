package finding

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity orders findings; a step fails when one is at or above --fail-on.
type Severity int

// Severities from least to most important. None is only a threshold:
// "--fail-on none" never fails.
const (
	Info Severity = iota + 1
	Warning
	Error
	None
)

// String returns the name used in flags, text output and annotations.
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	case None:
		return "none"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity reads a severity name as given in --fail-on or a config file.
// "style" is accepted as hadolint's name for info.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "info", "style", "note":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	case "none", "ignore", "off":
		return None, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning, info or none)", s)
}

// Rule describes a check: what it is called, how bad breaking it is, why it
// matters and where to read more.
type Rule struct {
	ID       string   // stable identifier, e.g. "DL3006"
	Name     string   // short kebab-case name, e.g. "image-untagged"
	Severity Severity // default severity
	Summary  string   // one line: why the rule exists
	HelpURI  string   // a page that explains the rule
}

// Finding is one problem at one place.
type Finding struct {
	RuleID   string
	Severity Severity
	// File is relative to the repository root, with forward slashes.
	File string
	// Line and Column are 1-based; 0 means unknown.
	Line, Column       int
	EndLine, EndColumn int
	Message            string
}

// Location renders "file:line:col", leaving out what is unknown.
func (f Finding) Location() string {
	loc := f.File
	if f.Line > 0 {
		loc += fmt.Sprintf(":%d", f.Line)
		if f.Column > 0 {
			loc += fmt.Sprintf(":%d", f.Column)
		}
	}
	return loc
}

// String renders the plain one-line form: "path:line:col: severity: message [RULE]",
// or "severity: message [RULE]" for a finding that is about no file.
func (f Finding) String() string {
	s := fmt.Sprintf("%s: %s", f.Severity, f.Message)
	if loc := f.Location(); loc != "" {
		s = loc + ": " + s
	}
	if f.RuleID != "" {
		s += " [" + f.RuleID + "]"
	}
	return s
}

// Sort orders findings most important first (severity, then file, line,
// column, rule), the order CI annotations must come in because GitHub shows
// only the first ten of each kind.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// AtOrAbove reports how many findings are at or above threshold.
func AtOrAbove(fs []Finding, threshold Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity >= threshold {
			n++
		}
	}
	return n
}

// Counts tallies findings per severity.
func Counts(fs []Finding) map[Severity]int {
	m := map[Severity]int{}
	for _, f := range fs {
		m[f.Severity]++
	}
	return m
}
