package validation

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// plainKey is a key that reads unambiguously after a dot.
var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// FieldPath turns a JSON pointer's segments into the path kubectl explain
// users know: spec.template.spec.containers[0].ports[0].containerPort, with
// keys such as app.kubernetes.io/name quoted in brackets.
func FieldPath(segments []string) string {
	var b strings.Builder
	for _, s := range segments {
		switch {
		case isIndex(s):
			b.WriteString("[" + s + "]")
		case plainKey.MatchString(s):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		default:
			b.WriteString("[" + strconv.Quote(s) + "]")
		}
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// splitPointer reads a JSON pointer ("/spec/ports/0") into its segments,
// undoing the ~1 and ~0 escapes.
func splitPointer(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
	}
	return parts
}

// locate finds the 1-based line and column of the node that segments name
// in a parsed document: the key's line for a mapping entry, so an error
// points at "containerPort:" rather than at its value. It stops at the
// deepest node that exists, so a missing field points at its parent.
func locate(doc *yaml.Node, segments []string) (line, col int) {
	n := doc
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n == nil {
		return 0, 0
	}
	line, col = n.Line, n.Column
	for _, s := range segments {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					line, col = n.Content[i].Line, n.Content[i].Column
					next = n.Content[i+1]
					break
				}
			}
			if next == nil {
				return line, col
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line, col
			}
			n = n.Content[i]
			line, col = n.Line, n.Column
		default:
			return line, col
		}
	}
	return line, col
}
