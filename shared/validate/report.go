package validate

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/markdown"
)

// Rule IDs of what validate reports.
const (
	RuleSchema     = "VL1001"
	RuleNoSchema   = "VL1002"
	RuleUnreadable = "VL1003"
)

// Rules describes every rule validate reports, for SARIF and the docs.
func Rules() []finding.Rule {
	return []finding.Rule{
		{ID: RuleSchema, Name: "schema-violation", Severity: finding.Error,
			Summary: "The resource does not match the schema of its kind in that Kubernetes version: the API server would reject it.",
			HelpURI: "https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation"},
		{ID: RuleNoSchema, Name: "schema-missing", Severity: finding.Error,
			Summary: "No schema knows this kind: a typo in apiVersion or kind, an API removed in that version, or a custom resource whose CRD was not given.",
			HelpURI: "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"},
		{ID: RuleUnreadable, Name: "resource-unreadable", Severity: finding.Error,
			Summary: "The document cannot be read as a Kubernetes object (duplicate keys, no kind, not a mapping).",
			HelpURI: "https://kubernetes.io/docs/concepts/overview/working-with-objects/"},
	}
}

// Label names a resource the way kubectl prints it: Deployment web/hello.
func Label(r Result) string {
	name := r.Resource.Name
	if r.Resource.Namespace != "" {
		name = r.Resource.Namespace + "/" + name
	}
	if name == "" {
		name = fmt.Sprintf("#%d", r.Resource.Index+1)
	}
	return r.Resource.Kind + " " + name
}

// Findings turns results into one finding per problem, merging what several
// Kubernetes versions say alike. missing is the severity of a kind without
// a schema; finding.None leaves those out.
func Findings(results []Result, missing finding.Severity) []finding.Finding {
	var out []finding.Finding
	for _, r := range results {
		out = append(out, resultFindings(r, missing)...)
	}
	finding.Sort(out)
	return out
}

func resultFindings(r Result, missing finding.Severity) []finding.Finding {
	type key struct{ rule, path, msg string }
	var order []key
	versions := map[key][]string{}
	at := map[key]Problem{}
	add := func(k key, p Problem, version string) {
		if _, seen := versions[k]; !seen {
			order = append(order, k)
			at[k] = p
		}
		versions[k] = append(versions[k], version)
	}
	for _, c := range r.Checks {
		switch c.Status {
		case Invalid:
			for _, p := range c.Problems {
				add(key{RuleSchema, p.Path, p.Message}, p, c.KubernetesVersion)
			}
		case Missing:
			p := Problem{Message: c.Message}
			if len(c.Problems) > 0 {
				p = c.Problems[0]
			}
			add(key{RuleNoSchema, "", p.Message}, p, c.KubernetesVersion)
		case Failed:
			p := Problem{Message: c.Message}
			if len(c.Problems) > 0 {
				p = c.Problems[0]
			}
			add(key{RuleUnreadable, "", p.Message}, p, c.KubernetesVersion)
		}
	}
	var out []finding.Finding
	for _, k := range order {
		sev := finding.Error
		if k.rule == RuleNoSchema {
			if sev = missing; sev == finding.None {
				continue
			}
		}
		p := at[k]
		msg := Label(r) + ": "
		if k.path != "" {
			msg += k.path + ": "
		}
		msg += k.msg
		var notes []string
		if p.Line == 0 && p.RenderedLine > 0 {
			notes = append(notes, fmt.Sprintf("rendered line %d", p.RenderedLine))
		}
		if len(versions[k]) < len(r.Checks) {
			notes = append(notes, "Kubernetes "+strings.Join(versions[k], ", "))
		}
		if len(notes) > 0 {
			msg += " (" + strings.Join(notes, "; ") + ")"
		}
		out = append(out, finding.Finding{RuleID: k.rule, Severity: sev, File: r.Resource.Source,
			Line: p.Line, Column: p.Column, Message: msg})
	}
	return out
}

// Totals counts resources by their overall status.
type Totals struct {
	Resources int `json:"resources"`
	Valid     int `json:"valid"`
	Invalid   int `json:"invalid"`
	Missing   int `json:"missingSchema"`
	Errors    int `json:"errors"`
}

// Count adds up results.
func Count(results []Result) Totals {
	var t Totals
	for _, r := range results {
		t.Resources++
		switch r.Status() {
		case Valid:
			t.Valid++
		case Invalid:
			t.Invalid++
		case Missing:
			t.Missing++
		default:
			t.Errors++
		}
	}
	return t
}

// String is the one-line verdict printed at the end of a run.
func (t Totals) String() string {
	return fmt.Sprintf("%d resources: %d valid, %d invalid, %d without a schema, %d unreadable",
		t.Resources, t.Valid, t.Invalid, t.Missing, t.Errors)
}

// WriteJSON writes every result, valid ones included, for tools.
func WriteJSON(w io.Writer, versions []string, results []Result) error {
	type jsonResource struct {
		Source     string  `json:"source"`
		Line       int     `json:"line,omitempty"`
		Stream     string  `json:"stream,omitempty"`
		APIVersion string  `json:"apiVersion"`
		Kind       string  `json:"kind"`
		Name       string  `json:"name"`
		Namespace  string  `json:"namespace,omitempty"`
		Status     Status  `json:"status"`
		Checks     []Check `json:"checks"`
	}
	doc := struct {
		KubernetesVersions []string       `json:"kubernetesVersions"`
		Summary            Totals         `json:"summary"`
		Resources          []jsonResource `json:"resources"`
	}{versions, Count(results), []jsonResource{}}
	for _, r := range results {
		doc.Resources = append(doc.Resources, jsonResource{r.Resource.Source, r.Resource.Line, r.Resource.Stream,
			r.Resource.APIVersion, r.Resource.Kind, r.Resource.Name, r.Resource.Namespace, r.Status(), r.Checks})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// JUnit XML as Jenkins, GitLab, Azure's PublishTestResults and the GitHub
// test-report actions read it: a suite per source stream, a test case per
// resource and Kubernetes version.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the JUnit report; a kind without a schema fails its
// test case when missingFails, else it is skipped.
func WriteJUnit(w io.Writer, results []Result, missingFails bool) error {
	doc := junitSuites{Name: "gitship-validate"}
	suites := map[string]*junitSuite{}
	var names []string
	for _, r := range results {
		name := cmp.Or(r.Resource.Stream, r.Resource.Source)
		s, ok := suites[name]
		if !ok {
			s = &junitSuite{Name: name}
			suites[name] = s
			names = append(names, name)
		}
		for _, c := range r.Checks {
			tc := junitCase{Name: Label(r), ClassName: r.Resource.Source}
			if len(r.Checks) > 1 {
				tc.Name += " [Kubernetes " + c.KubernetesVersion + "]"
			}
			switch c.Status {
			case Invalid:
				var lines []string
				for _, p := range c.Problems {
					lines = append(lines, strings.TrimPrefix(p.Path+": "+p.Message, ": "))
				}
				tc.Failure = &junitMessage{Message: lines[0], Type: RuleSchema, Text: strings.Join(lines, "\n")}
				s.Failures++
			case Missing:
				if missingFails {
					tc.Failure = &junitMessage{Message: c.Message, Type: RuleNoSchema}
					s.Failures++
				} else {
					tc.Skipped = &junitMessage{Message: c.Message}
					s.Skipped++
				}
			case Failed:
				tc.Error = &junitMessage{Message: c.Message, Type: RuleUnreadable}
				s.Errors++
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
	}
	for _, n := range names {
		s := suites[n]
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, *s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// maxSummaryRows keeps the step summary readable; the report has all.
const maxSummaryRows = 50

// Summary is the Markdown for the CI's step summary: totals, resources per
// kind, then the problems.
func Summary(versions []string, results []Result, findings []finding.Finding) string {
	var b strings.Builder
	t := Count(results)
	fmt.Fprintf(&b, "### gitship validate\n\nKubernetes %s\n\n", strings.Join(versions, ", "))
	b.WriteString("| resources | valid | invalid | no schema | unreadable |\n|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d |\n\n", t.Resources, t.Valid, t.Invalid, t.Missing, t.Errors)

	type kindRow struct {
		kind string
		t    Totals
	}
	var rows []kindRow
	for _, r := range results {
		k := r.Resource.APIVersion + " " + r.Resource.Kind
		i := slices.IndexFunc(rows, func(x kindRow) bool { return x.kind == k })
		if i < 0 {
			rows = append(rows, kindRow{kind: k})
			i = len(rows) - 1
		}
		c := Count([]Result{r})
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
