package finding

import (
	"fmt"
	"io"
)

// Formats lists the report formats Write accepts.
var Formats = []string{"text", "json", "sarif"}

// Report is what a check found, with the rules it ran, ready to be written
// in one of the Formats.
type Report struct {
	Tool           string // e.g. "gitship-lint"
	Version        string
	InformationURI string
	Rules          []Rule
	Findings       []Finding
}

// Write renders the report in format.
func (r Report) Write(w io.Writer, format string) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "json":
		return writeJSON(w, r)
	case "sarif":
		return writeSARIF(w, r)
	}
	return fmt.Errorf("unknown report format %q (want text, json or sarif)", format)
}

// rule finds the rule of a finding; unknown rules get an empty Rule.
func (r Report) rule(id string) Rule {
	for _, rule := range r.Rules {
		if rule.ID == id {
			return rule
		}
	}
	return Rule{ID: id}
}
