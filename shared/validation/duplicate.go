package validation

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/render"
)

// duplicate is a key given again in the same mapping of a document.
type duplicate struct {
	segments  []string // the path to the key, the key last
	nth       int      // how many times the key came before in its mapping
	line, col int      // of the repeated key, in the document
	firstLine int      // of the key's first appearance, in the document
}

// duplicates finds the repeated keys of a parsed document, in document
// order. kubeconform (and kubectl) refuse such a document with the
// parser's "line N: key already set in map", a line counted in the
// rendered document and without a column: these carry the path, so the
// key can be placed in its file or template.
func duplicates(doc *yaml.Node) []duplicate {
	var out []duplicate
	var walk func(n *yaml.Node, path []string, depth int)
	walk = func(n *yaml.Node, path []string, depth int) {
		if n == nil || depth > 10000 || n.Kind == yaml.AliasNode {
			return // an anchored node is walked where it is defined
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, append(path[:len(path):len(path)], strconv.Itoa(i)), depth+1)
			}
		case yaml.MappingNode:
			seen := map[string][]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
					continue
				}
				keyPath := append(path[:len(path):len(path)], k.Value)
				if before := seen[k.Value]; len(before) > 0 {
					out = append(out, duplicate{segments: keyPath, nth: len(before),
						line: k.Line, col: k.Column, firstLine: before[0].Line})
				}
				seen[k.Value] = append(seen[k.Value], k)
				walk(n.Content[i+1], keyPath, depth+1)
			}
		}
	}
	walk(doc, nil, 0)
	return out
}

// duplicateProblems places each repeated key of r: in its file, with the
// column, when r is verbatim; on its template line when the template
// spells the key out; else on its line in the rendered document.
func (v *Validator) duplicateProblems(r render.Resource, doc *yaml.Node) []Problem {
	var out []Problem
	for _, d := range duplicates(doc) {
		p := Problem{Path: FieldPath(d.segments), RenderedLine: d.line}
		key := d.segments[len(d.segments)-1]
		switch {
		case r.Line > 0:
			p.Line, p.Column = r.Line+d.line-1, d.col+r.Indent
			p.Message = fmt.Sprintf("duplicate key %q (first at line %d)", key, r.Line+d.firstLine-1)
		default:
			first := 0
			if r.Source != "" {
				src := v.source(r.Source)
				p.Line, first = templateDuplicateLine(src, d.segments, d.nth), templateDuplicateLine(src, d.segments, 0)
			}
			if p.Line > 0 && first > 0 {
				p.Message = fmt.Sprintf("duplicate key %q (first at line %d)", key, first)
			} else {
				p.Message = fmt.Sprintf("duplicate key %q (first at rendered line %d)", key, d.firstLine)
			}
		}
		out = append(out, p)
	}
	return out
}
