package finding

import (
	"encoding/json"
	"io"
)

type jsonReport struct {
	Tool     string        `json:"tool"`
	Version  string        `json:"version,omitempty"`
	Summary  jsonSummary   `json:"summary"`
	Findings []jsonFinding `json:"findings"`
}

type jsonSummary struct {
	Findings int `json:"findings"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Info     int `json:"info"`
}

type jsonFinding struct {
	Rule      string `json:"rule"`
	Name      string `json:"name,omitempty"`
	Severity  string `json:"severity"`
	File      string `json:"file"`
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
	EndLine   int    `json:"endLine,omitempty"`
	EndColumn int    `json:"endColumn,omitempty"`
	Message   string `json:"message"`
	HelpURI   string `json:"helpUri,omitempty"`
}

func writeJSON(w io.Writer, r Report) error {
	c := Counts(r.Findings)
	out := jsonReport{
		Tool:     r.Tool,
		Version:  r.Version,
		Summary:  jsonSummary{Findings: len(r.Findings), Errors: c[Error], Warnings: c[Warning], Info: c[Info]},
		Findings: []jsonFinding{},
	}
	for _, f := range r.Findings {
		rule := r.rule(f.RuleID)
		out.Findings = append(out.Findings, jsonFinding{
			Rule: f.RuleID, Name: rule.Name, Severity: f.Severity.String(), File: f.File,
			Line: f.Line, Column: f.Column, EndLine: f.EndLine, EndColumn: f.EndColumn,
			Message: f.Message, HelpURI: rule.HelpURI,
		})
	}
	return WriteJSON(w, out)
}

// WriteJSON writes doc as every JSON report is written: indented by two
// spaces, ending in a newline. A step whose report says more than its
// findings (validate's lists every resource, the valid ones too) writes
// its own document through it.
func WriteJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
