package verify

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gitship/gitship/shared/markdown"
)

// summary is the Markdown the CI shows: what became ready when, how the
// probes answered, and why the step failed if it did.
func summary(p plan, ready []done, start time.Time, probes []probeResult, err error) string {
	var b strings.Builder
	b.WriteString("### Verify\n\n")
	if p.revision != "" {
		fmt.Fprintf(&b, "Revision `%s`\n\n", markdown.Cell(p.revision))
	}
	if len(ready) > 0 {
		b.WriteString("| object | state | ready after |\n|---|---|---|\n")
		for _, d := range ready {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", markdown.Cell(d.target.ref().String()), markdown.Cell(d.status.state),
				d.at.Sub(start).Round(time.Second))
		}
		b.WriteString("\n")
	}
	if len(probes) > 0 {
		b.WriteString("| URL | result | probes | wrong | latency p50 | max |\n|---|---|---|---|---|---|\n")
		for _, r := range probes {
			result := "ok"
			if !r.OK {
				result = "failed: " + r.Last
			}
			var maxLat time.Duration
			for _, l := range r.Latencies {
				maxLat = max(maxLat, l)
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s |\n", markdown.Cell(r.URL), markdown.Cell(result), r.Attempts, r.Failures,
				median(r.Latencies), roundLatency(maxLat))
		}
		b.WriteString("\n")
	}
	if err != nil {
		var failed *FailedError
		var timeout *TimeoutError
		switch {
		case errors.As(err, &failed):
			fmt.Fprintf(&b, "**Failed**: %s: %s\n", markdown.Cell(failed.Object.String()), markdown.Cell(failed.Reason))
			if len(failed.Events) > 0 {
				b.WriteString("\nLast events:\n\n")
				for _, ev := range failed.Events {
					fmt.Fprintf(&b, "- %s\n", markdown.Cell(ev))
				}
			}
		case errors.As(err, &timeout):
			fmt.Fprintf(&b, "**Timed out** after %s waiting for %s, stuck at: %s\n", timeout.After.Round(time.Second),
				markdown.Cell(timeout.Object.String()), markdown.Cell(timeout.State))
		default:
			fmt.Fprintf(&b, "**Failed**: %s\n", markdown.Cell(err.Error()))
		}
	}
	return b.String()
}
