package validate

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/markdown"
	"github.com/gitship/gitship/shared/validation"
)

// WriteJSON writes every result, valid ones included, for tools.
func WriteJSON(w io.Writer, versions []string, results []validation.Result) error {
	type jsonResource struct {
		Source     string             `json:"source"`
		Line       int                `json:"line,omitempty"`
		Stream     string             `json:"stream,omitempty"`
		APIVersion string             `json:"apiVersion"`
		Kind       string             `json:"kind"`
		Name       string             `json:"name"`
		Namespace  string             `json:"namespace,omitempty"`
		Status     validation.Status  `json:"status"`
		Checks     []validation.Check `json:"checks"`
	}
	doc := struct {
		KubernetesVersions []string          `json:"kubernetesVersions"`
		Summary            validation.Totals `json:"summary"`
		Resources          []jsonResource    `json:"resources"`
	}{versions, validation.Count(results), []jsonResource{}}
	for _, r := range results {
		doc.Resources = append(doc.Resources, jsonResource{r.Resource.Source, r.Resource.Line, r.Resource.Stream,
			r.Resource.APIVersion, r.Resource.Kind, r.Resource.Name, r.Resource.Namespace, r.Status(), r.Checks})
	}
	return finding.WriteJSON(w, doc)
}

// WriteJUnit writes the JUnit report: a suite per source stream, a test
// case per resource and Kubernetes version. A kind without a schema fails
// its test case when missingFails, else it is skipped.
func WriteJUnit(w io.Writer, results []validation.Result, missingFails bool) error {
	doc := finding.JUnit{Name: "gitship-validate"}
	suite := map[string]int{} // stream name to index in doc.Suites
	for _, r := range results {
		name := cmp.Or(r.Resource.Stream, r.Resource.Source)
		i, ok := suite[name]
		if !ok {
			i = len(doc.Suites)
			suite[name] = i
			doc.Suites = append(doc.Suites, finding.JUnitSuite{Name: name})
		}
		for _, c := range r.Checks {
			tc := finding.JUnitCase{Name: validation.Label(r), ClassName: r.Resource.Source}
			if len(r.Checks) > 1 || r.Resource.Versions != nil {
				tc.Name += " [Kubernetes " + c.KubernetesVersion + "]"
			}
			switch c.Status {
			case validation.Invalid:
				var lines []string
				for _, p := range c.Problems {
					lines = append(lines, strings.TrimPrefix(p.Path+": "+p.Message, ": "))
				}
				tc.Outcome, tc.Message, tc.Type, tc.Text = finding.Failed, lines[0], validation.RuleSchema, strings.Join(lines, "\n")
			case validation.Missing:
				tc.Outcome, tc.Message = finding.Skipped, c.Message
				if missingFails {
					tc.Outcome, tc.Type = finding.Failed, validation.RuleNoSchema
				}
			case validation.Failed:
				tc.Outcome, tc.Message, tc.Type = finding.Errored, c.Message, validation.RuleUnreadable
			}
			doc.Suites[i].Cases = append(doc.Suites[i].Cases, tc)
		}
	}
	return doc.Write(w)
}

// WriteText writes one line per finding, then the totals.
func WriteText(w io.Writer, results []validation.Result, findings []finding.Finding) error {
	return finding.WriteText(w, findings, validation.Count(results).String())
}

// maxSummaryRows keeps the step summary readable; the report has all.
const maxSummaryRows = 50

// Summary is the Markdown for the CI's step summary: totals, resources per
// kind, then the problems.
func Summary(versions []string, results []validation.Result, findings []finding.Finding) string {
	var b strings.Builder
	t := validation.Count(results)
	fmt.Fprintf(&b, "### gitship validate\n\nKubernetes %s\n\n", strings.Join(versions, ", "))
	b.WriteString("| resources | valid | invalid | no schema | unreadable |\n|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d |\n\n", t.Resources, t.Valid, t.Invalid, t.Missing, t.Errors)

	type kindRow struct {
		kind string
		t    validation.Totals
	}
	var rows []kindRow
	for _, r := range results {
		k := r.Resource.APIVersion + " " + r.Resource.Kind
		i := slices.IndexFunc(rows, func(x kindRow) bool { return x.kind == k })
		if i < 0 {
			rows = append(rows, kindRow{kind: k})
			i = len(rows) - 1
		}
		c := validation.Count([]validation.Result{r})
		rows[i].t.Resources++
		rows[i].t.Valid += c.Valid
		rows[i].t.Invalid += c.Invalid
		rows[i].t.Missing += c.Missing
		rows[i].t.Errors += c.Errors
	}
	slices.SortFunc(rows, func(a, b kindRow) int { return strings.Compare(a.kind, b.kind) })
	if len(rows) > 0 {
		b.WriteString("| kind | resources | valid | invalid | no schema | unreadable |\n|---|---:|---:|---:|---:|---:|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d | %d |\n", markdown.Cell(r.kind), r.t.Resources, r.t.Valid, r.t.Invalid, r.t.Missing, r.t.Errors)
		}
		b.WriteString("\n")
	}
	if len(findings) == 0 {
		b.WriteString("No problems.\n")
		return b.String()
	}
	b.WriteString("| severity | location | problem |\n|---|---|---|\n")
	for i, f := range findings {
		if i == maxSummaryRows {
			fmt.Fprintf(&b, "\n_%d more in the report._\n", len(findings)-maxSummaryRows)
			break
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", f.Severity, markdown.Cell(f.Location()), markdown.Cell(f.Message))
	}
	return b.String()
}
