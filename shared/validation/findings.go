package validation

import (
	"fmt"
	"strings"

	"github.com/gitship/gitship/shared/finding"
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
	if r.Resource.Kind == "" { // a document that is no object
		return "document " + name
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
			if len(c.Problems) == 0 {
				add(key{RuleUnreadable, "", c.Message}, Problem{Message: c.Message}, c.KubernetesVersion)
			}
			for _, p := range c.Problems { // each duplicate key, say
				add(key{RuleUnreadable, p.Path, p.Message}, p, c.KubernetesVersion)
			}
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
		if len(versions[k]) < len(r.Checks) || r.Resource.Versions != nil {
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
