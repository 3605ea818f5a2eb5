package finding

import (
	"fmt"
	"io"
)

// writeText writes one "path:line:col: severity: message [RULE]" line per
// finding, the format editors and grep understand, then a count.
func writeText(w io.Writer, r Report) error {
	for _, f := range r.Findings {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, CountLine(r.Findings))
	return err
}

// CountLine says how many findings of each severity there are.
func CountLine(fs []Finding) string {
	c := Counts(fs)
	return fmt.Sprintf("%d findings: %d errors, %d warnings, %d info", len(fs), c[Error], c[Warning], c[Info])
}
