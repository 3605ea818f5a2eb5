package ci

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gitship/gitship/shared/finding"
)

type azure struct {
	env     Env
	ctx     Context
	step    string
	outputs *jsonOutputs
}

func (a *azure) Name() string     { return "azure" }
func (a *azure) Context() Context { return a.ctx }

// Annotate prints ##vso[task.logissue]. Azure knows only error and warning:
// an info finding is printed as a plain line so it is not shown as a
// warning it is not.
func (a *azure) Annotate(w io.Writer, f finding.Finding) {
	if f.Severity < finding.Warning {
		fmt.Fprintln(w, azureData(f.String()))
		return
	}
	typ := "warning"
	if f.Severity >= finding.Error {
		typ = "error"
	}
	props := []string{"type=" + typ}
	if f.File != "" {
		props = append(props, "sourcepath="+azureProperty(f.File))
	}
	if f.Line > 0 {
		props = append(props, fmt.Sprintf("linenumber=%d", f.Line))
		if f.Column > 0 {
			props = append(props, fmt.Sprintf("columnnumber=%d", f.Column))
		}
	}
	if f.RuleID != "" {
		props = append(props, "code="+azureProperty(f.RuleID))
	}
	fmt.Fprintf(w, "##vso[task.logissue %s;]%s\n", strings.Join(props, ";"), azureData(f.Message))
}

func (a *azure) Mask(w io.Writer, secret string) {
	for _, line := range strings.Split(secret, "\n") {
		if line = strings.TrimRight(line, "\r"); strings.TrimSpace(line) != "" {
			fmt.Fprintf(w, "##vso[task.setsecret]%s\n", azureData(line))
		}
	}
}

func (a *azure) Group(w io.Writer, title string) { fmt.Fprintf(w, "##[group]%s\n", title) }
func (a *azure) EndGroup(w io.Writer)            { fmt.Fprintln(w, "##[endgroup]") }

// SetOutput prints ##vso[task.setvariable] with isOutput=true, so later
// jobs read it as dependencies.<job>.outputs['<step>.<name>'].
func (a *azure) SetOutput(w io.Writer, o Output) error {
	a.outputs.set(o)
	props := "variable=" + azureProperty(AzureName(o.Name)) + ";isOutput=true"
	if o.Secret {
		props += ";issecret=true"
	}
	fmt.Fprintf(w, "##vso[task.setvariable %s]%s\n", props, azureData(o.Value))
	return nil
}

// Summary writes the Markdown to a file and asks the agent to attach it to
// the run (##vso[task.uploadsummary]).
func (a *azure) Summary(w io.Writer, markdown string) error {
	dir := firstNonEmpty(a.env["AGENT_TEMPDIRECTORY"], filepath.Join(a.ctx.Workspace, ".gitship"))
	path := filepath.Join(dir, "gitship-"+a.step+"-summary.md")
	if err := writeSummaryFile(path, markdown); err != nil {
		return err
	}
	fmt.Fprintf(w, "##vso[task.uploadsummary]%s\n", azureData(path))
	return nil
}

func (a *azure) Close() error { return a.outputs.write() }

// azureData escapes a logging command's message (azure-pipelines-task-lib).
func azureData(s string) string {
	return strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// azureProperty escapes a logging command property value.
func azureProperty(s string) string {
	return strings.NewReplacer("%", "%AZP25", ";", "%3B", "\r", "%0D", "\n", "%0A", "]", "%5D").Replace(s)
}

// AzureName is the camelCase form Azure needs of a kebab-case name: task
// inputs and output variables allow letters and digits only, so fail-on is
// failOn and the output rendered-path is renderedPath.
func AzureName(name string) string {
	parts := strings.Split(name, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
