package finding

import (
	"fmt"
	"io"
)

// writeText writes the findings, then how many of each severity.
func writeText(w io.Writer, r Report) error {
	return WriteText(w, r.Findings, CountLine(r.Findings))
}

// WriteText writes one "path:line:col: severity: message [RULE]" line per
// finding, the format editors and grep understand, then the line last (a
// count, in the step's words).
func WriteText(w io.Writer, fs []Finding, last string) error {
	for _, f := range fs {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, last)
	return err
}

// CountLine says how many findings of each severity there are.
func CountLine(fs []Finding) string {
	c := Counts(fs)
	return fmt.Sprintf("%d findings: %d errors, %d warnings, %d info", len(fs), c[Error], c[Warning], c[Info])
}
