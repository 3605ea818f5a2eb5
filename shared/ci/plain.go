package ci

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/gitship/gitship/shared/finding"
)

// plain serves Cloud Build and local runs: annotations are plain
// "path:line:col: severity: message [RULE]" lines, outputs a JSON file.
type plain struct {
	name string
	run
}

func (p *plain) Name() string { return p.name }

func (p *plain) Annotate(w io.Writer, f finding.Finding) { fmt.Fprintln(w, f.String()) }

// Mask has nothing to tell: these logs have no masking command, so the
// step's redacting writers are the only protection.
func (p *plain) Mask(io.Writer, string) {}

func (p *plain) Group(w io.Writer, title string) { fmt.Fprintf(w, "==> %s\n", title) }
func (p *plain) EndGroup(io.Writer)              {}

func (p *plain) SetOutput(_ io.Writer, o Output) error {
	p.outputs.set(o)
	return nil
}

// Summary is written next to the outputs file for a later step or a human.
func (p *plain) Summary(w io.Writer, markdown string) error {
	path := filepath.Join(p.ctx.Workspace, ".gitship", p.step+"-summary.md")
	if err := writeSummaryFile(path, markdown); err != nil {
		return err
	}
	fmt.Fprintf(w, "Summary written to %s\n", path)
	return nil
}
