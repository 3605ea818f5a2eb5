package ci

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gitship/gitship/shared/finding"
)

// maxGitHubSummary is the per-step limit of $GITHUB_STEP_SUMMARY.
const maxGitHubSummary = 1 << 20

type github struct{ run }

func (g *github) Name() string { return "github" }

// Annotate prints ::error/::warning/::notice with the location properties.
func (g *github) Annotate(w io.Writer, f finding.Finding) {
	cmd := "notice"
	switch f.Severity {
	case finding.Error:
		cmd = "error"
	case finding.Warning:
		cmd = "warning"
	}
	var props []string
	add := func(k, v string) { props = append(props, k+"="+githubProperty(v)) }
	if f.File != "" {
		add("file", f.File)
	}
	if f.Line > 0 {
		add("line", fmt.Sprint(f.Line))
		if f.EndLine > 0 {
			add("endLine", fmt.Sprint(f.EndLine))
		}
		if f.Column > 0 {
			add("col", fmt.Sprint(f.Column))
			if f.EndColumn > 0 {
				add("endColumn", fmt.Sprint(f.EndColumn))
			}
		}
	}
	if f.RuleID != "" {
		add("title", f.RuleID)
	}
	emit(w, githubAnnotation(cmd, strings.Join(props, ","), redactFor(w, f.Message)), false)
}

// githubAnnotation is an error, warning or notice command. Every line of
// the message is neutralised before it is escaped: the runner decodes %0A
// and shows each line in the log and on the run page.
func githubAnnotation(cmd, props, message string) string {
	if props != "" {
		cmd += " " + props
	}
	return "::" + cmd + "::" + githubData(Neutralize("github", message))
}

// Mask registers each line of the secret (the runner matches line by line).
// The value goes as it is, escaped only: it must match what it hides.
func (g *github) Mask(w io.Writer, secret string) { mask("github", w, secret) }

func (g *github) Group(w io.Writer, title string) {
	emit(w, "::group::"+githubData(oneLine("github", redactFor(w, title))), false)
}
func (g *github) EndGroup(w io.Writer) { emit(w, "::endgroup::", false) }

// SetOutput appends to $GITHUB_OUTPUT, in the heredoc form when the value
// has several lines, with a random delimiter the value may not contain.
func (g *github) SetOutput(w io.Writer, o Output) error {
	g.outputs.set(o)
	if o.Secret && o.Value != "" {
		g.Mask(w, o.Value)
	}
	path := g.env["GITHUB_OUTPUT"]
	if path == "" {
		return fmt.Errorf("set output %q: GITHUB_OUTPUT is not set", o.Name)
	}
	var rec string
	if strings.ContainsAny(o.Value, "\r\n") {
		delim := "ghadelimiter_" + randomHex()
		if strings.Contains(o.Value, delim) {
			return fmt.Errorf("set output %q: value contains the delimiter %q", o.Name, delim)
		}
		rec = fmt.Sprintf("%s<<%s\n%s\n%s\n", o.Name, delim, o.Value, delim)
	} else {
		rec = o.Name + "=" + o.Value + "\n"
	}
	return appendFile(path, rec)
}

// Summary appends Markdown to $GITHUB_STEP_SUMMARY, cut to GitHub's limit.
func (g *github) Summary(w io.Writer, markdown string) error {
	path := g.env["GITHUB_STEP_SUMMARY"]
	if path == "" {
		return nil
	}
	if len(markdown) > maxGitHubSummary {
		const note = "\n\n_Summary truncated: see the step's report for the full list._\n"
		markdown = markdown[:maxGitHubSummary-len(note)] + note
	}
	return appendFile(path, markdown)
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// githubData escapes a command's message (actions/toolkit escapeData).
func githubData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// githubProperty escapes a command property value (escapeProperty).
func githubProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
