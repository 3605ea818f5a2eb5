package finding

import (
	"fmt"
	"io"

	"github.com/owenrumney/go-sarif/v2/sarif"
)

// writeSARIF writes SARIF 2.1.0 as GitHub code scanning reads it: the
// tool's rules with descriptions and help, and each result with a
// repository-relative artifact URI and a region.
func writeSARIF(w io.Writer, r Report) error {
	rep, err := sarif.New(sarif.Version210, true)
	if err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	run := sarif.NewRunWithInformationURI(r.Tool, r.InformationURI)
	if r.Version != "" {
		run.Tool.Driver.Version = &r.Version
	}
	for _, rule := range r.Rules {
		help := rule.Summary
		if rule.HelpURI != "" {
			help += " See " + rule.HelpURI
		}
		d := run.AddRule(rule.ID).
			WithName(rule.Name).
			WithShortDescription(sarif.NewMultiformatMessageString(rule.Summary)).
			WithFullDescription(sarif.NewMultiformatMessageString(rule.Summary)).
			WithTextHelp(help).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(rule.Severity)))
		if rule.HelpURI != "" {
			d.WithHelpURI(rule.HelpURI)
		}
	}
	for _, f := range r.Findings {
		region := sarif.NewRegion().WithStartLine(max(f.Line, 1))
		if f.Column > 0 {
			region.WithStartColumn(f.Column)
		}
		if f.EndLine >= f.Line && f.EndLine > 0 {
			region.WithEndLine(f.EndLine)
		}
		if f.EndColumn > 0 {
			region.WithEndColumn(f.EndColumn)
		}
		res := run.CreateResultForRule(f.RuleID).
			WithLevel(sarifLevel(f.Severity)).
			WithMessage(sarif.NewTextMessage(f.Message))
		res.AddLocation(sarif.NewLocationWithPhysicalLocation(
			sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(f.File)).
				WithRegion(region)))
	}
	if run.Results == nil {
		// An empty list, not null or absent: code scanning closes the
		// alerts of a file that no longer has findings.
		run.Results = []*sarif.Result{}
	}
	rep.AddRun(run)
	if err := rep.PrettyWrite(w); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	_, err = io.WriteString(w, "\n")
	return err
}

func sarifLevel(s Severity) string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}
