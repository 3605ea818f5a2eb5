package ci

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gitship/gitship/shared/finding"
)

type azure struct{ run }

func (a *azure) Name() string { return "azure" }

// Annotate prints ##vso[task.logissue]. Azure knows only error and warning:
// an info finding is printed as a plain line so it is not shown as a
// warning it is not.
func (a *azure) Annotate(w io.Writer, f finding.Finding) {
	if f.Severity < finding.Warning {
		// Text, not a command: neutralised here too for a writer that is
		// not a Writer.
		_, _ = io.WriteString(w, Neutralize("azure", f.String())+"\n")
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
	emit(w, azureAnnotation(strings.Join(props, ";"), redactFor(w, f.Message)), false)
}

// azureAnnotation is a task.logissue command. Every line of the message is
// neutralised before it is escaped: the agent decodes %0A and shows each
// line in the log.
func azureAnnotation(props, message string) string {
	return "##vso[task.logissue " + props + ";]" + azureData(Neutralize("azure", message))
}

// Mask registers each line of the secret with the agent; the value goes as
// it is, escaped only: it must match what it hides.
func (a *azure) Mask(w io.Writer, secret string) { mask("azure", w, secret) }

// Group opens a folded section. "##[group]" is read by the log viewer, not
// decoded: the title is put on one line and neutralised, not escaped.
func (a *azure) Group(w io.Writer, title string) {
	emit(w, "##[group]"+oneLine("azure", redactFor(w, title)), false)
}
func (a *azure) EndGroup(w io.Writer) { emit(w, "##[endgroup]", false) }

// SetOutput prints ##vso[task.setvariable] with isOutput=true, so later
// jobs read it as dependencies.<job>.outputs['<step>.<name>'].
func (a *azure) SetOutput(w io.Writer, o Output) error {
	a.outputs.set(o)
	props := "variable=" + azureProperty(AzureName(o.Name)) + ";isOutput=true"
	if o.Secret {
		props += ";issecret=true"
	}
	emit(w, "##vso[task.setvariable "+props+"]"+azureData(o.Value), o.Secret)
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
	emit(w, "##vso[task.uploadsummary]"+azureData(path), false)
	return nil
}

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
