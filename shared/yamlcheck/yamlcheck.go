package yamlcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/finding"
)

// Rule IDs.
const (
	RuleSyntax    = "YL001"
	RuleDuplicate = "YL002"
	RuleTab       = "YL003"
)

// Rules lists what Check reports.
func Rules() []finding.Rule {
	return []finding.Rule{
		{ID: RuleSyntax, Name: "yaml-syntax", Severity: finding.Error,
			Summary: "The file is not valid YAML; every tool that reads it will fail or read something else.",
			HelpURI: "https://yaml.org/spec/1.2.2/"},
		{ID: RuleDuplicate, Name: "yaml-duplicate-key", Severity: finding.Error,
			Summary: "A key appears twice in one mapping: parsers keep one value silently, so the other is lost.",
			HelpURI: "https://yamllint.readthedocs.io/en/stable/rules.html#module-yamllint.rules.key_duplicates"},
		{ID: RuleTab, Name: "yaml-tab-indent", Severity: finding.Error,
			Summary: "YAML forbids tabs for indentation; use spaces.",
			HelpURI: "https://yaml.org/spec/1.2.2/#61-indentation-spaces"},
	}
}

// Check reads every document of a YAML file. name is the repository-relative
// path put in findings. It never fails: what it cannot read is a finding.
func Check(name string, src []byte) []finding.Finding {
	var out []finding.Finding
	tabLines := map[int]bool{}
	for i, line := range bytes.Split(src, []byte("\n")) {
		indent := line[:len(line)-len(bytes.TrimLeft(line, " \t"))]
		if col := bytes.IndexByte(indent, '\t'); col >= 0 {
			tabLines[i+1] = true
			out = append(out, finding.Finding{RuleID: RuleTab, Severity: finding.Error, File: name,
				Line: i + 1, Column: col + 1, Message: "tab in indentation: YAML allows only spaces"})
		}
	}

	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := errorLine(err)
			if !tabLines[line] { // a tab already explains the error on its line
				out = append(out, finding.Finding{RuleID: RuleSyntax, Severity: finding.Error, File: name,
					Line: line, Column: 1, Message: syntaxMessage(err)})
			}
			break // the decoder cannot go on after a syntax error
		}
		out = append(out, duplicates(name, &doc)...)
	}
	finding.Sort(out)
	return out
}

// duplicates walks every mapping of a document for keys given twice.
func duplicates(name string, n *yaml.Node) []finding.Finding {
	var out []finding.Finding
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 10000 {
			return
		}
		if n.Kind == yaml.MappingNode {
			seen := map[string]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
					continue
				}
				if first, ok := seen[k.Value]; ok {
					out = append(out, finding.Finding{RuleID: RuleDuplicate, Severity: finding.Error, File: name,
						Line: k.Line, Column: k.Column, EndLine: k.Line, EndColumn: k.Column + len(k.Value),
						Message: fmt.Sprintf("duplicate key %q (first at line %d): only one of the values is used", k.Value, first.Line)})
					continue
				}
				seen[k.Value] = k
			}
		}
		if n.Kind == yaml.AliasNode {
			return // the anchored node is walked where it is defined
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return out
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// errorLine reads the line from a yaml.v3 error. yaml.v3 prints the 0-based
// line for parser errors ("did not find expected ...", where the construct
// that was left open begins) and the 1-based line for scanner errors.
func errorLine(err error) int {
	m := lineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 1
	}
	n, convErr := strconv.Atoi(m[1])
	if convErr != nil {
		return 1
	}
	if strings.Contains(err.Error(), "did not find expected") {
		n++
	}
	return max(n, 1)
}

// syntaxMessage drops the "yaml: line N:" prefix the finding already says.
func syntaxMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := lineRE.FindStringIndex(msg); m != nil && m[0] == 0 {
		msg = strings.TrimLeft(msg[m[1]:], ": ")
	}
	return "invalid YAML: " + msg
}
