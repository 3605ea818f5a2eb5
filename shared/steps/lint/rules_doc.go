package lint

import (
	"fmt"
	"strings"

	"github.com/gitship/gitship/shared/markdown"
)

// RulesMarkdown renders docs/rules.md: every rule lint can report.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# Lint rules\n\n<!-- Generated from the rule tables by `go test ./shared/steps/lint -update`; do not edit. -->\n\n")
	b.WriteString("`DL*` rules carry hadolint's IDs, so `# hadolint ignore=` comments and `.hadolint.yaml` keep working. " +
		"`GS*` are gitship's own, `HL*` come from the Helm SDK's lint, `YL*` from the YAML checks. " +
		"Silence a rule with `--ignore ID`, the `ignored:` list of `.hadolint.yaml`, or an inline comment.\n\n")
	b.WriteString("| ID | name | default severity | why |\n|---|---|---|---|\n")
	for _, r := range allRules() {
		id := r.ID
		if r.HelpURI != "" {
			id = fmt.Sprintf("[%s](%s)", r.ID, r.HelpURI)
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", id, r.Name, r.Severity, markdown.Cell(r.Summary))
	}
	return b.String()
}
