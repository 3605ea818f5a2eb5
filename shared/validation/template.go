package validation

import (
	"bytes"
	"strings"
)

// templateLine finds, in a Helm template's source, the line that writes the
// field at segments, so an error points at the line a human edits rather
// than at the rendered output. Templates are YAML with actions mixed in, so
// this follows the YAML shape of the text: each key must appear, in order,
// further down and deeper indented than its parent, without leaving the
// parent's block. When the text does not spell the key out (it comes from
// toYaml, include, or a computed key), the answer is 0: better no line than
// a wrong one.
func templateLine(src []byte, segments []string) int {
	keys := keysOf(segments)
	if len(keys) == 0 {
		return 0
	}
	line, _ := templateFind(bytes.Split(src, []byte("\n")), keys)
	return line
}

// templateDuplicateLine finds, in a Helm template's source, the line that
// writes the key at segments for the nth time (from 0) within its parent
// mapping: where a duplicate key is. 0 when the text does not spell it.
func templateDuplicateLine(src []byte, segments []string, nth int) int {
	keys := keysOf(segments)
	if len(keys) == 0 {
		return 0
	}
	lines := bytes.Split(src, []byte("\n"))
	parent, parentIndent := 0, -1 // a key of the document itself
	if len(keys) > 1 {
		if parent, parentIndent = templateFind(lines, keys[:len(keys)-1]); parent == 0 {
			return 0
		}
	}
	key, childIndent, seen := keys[len(keys)-1], -1, 0
	for i := parent; i < len(lines); i++ { // parent is 1-based: from the line after it
		indent, text, ok := yamlLine(lines[i])
		if !ok {
			continue
		}
		if indent <= parentIndent {
			break
		}
		if childIndent < 0 {
			childIndent = indent
		}
		if indent == childIndent && keyOf(text) == key {
			if seen == nth {
				return i + 1
			}
			seen++
		}
	}
	return 0
}

func keysOf(segments []string) []string {
	var keys []string
	for _, s := range segments {
		if !isIndex(s) {
			keys = append(keys, s)
		}
	}
	return keys
}

// templateFind follows keys down the template's lines (see templateLine)
// and returns the 1-based line of the last one and its indentation; 0
// when a key is not spelled out.
func templateFind(lines [][]byte, keys []string) (line, indent int) {
	parentIndent := -1
	found := 0
	i := 0
	for _, key := range keys {
		match := -1
		for ; i < len(lines); i++ {
			indent, text, ok := yamlLine(lines[i])
			if !ok {
				continue
			}
			if indent <= parentIndent {
				return 0, 0 // left the parent's block without finding the key
			}
			if keyOf(text) == key {
				match = i
				parentIndent = indent
				break
			}
		}
		if match < 0 {
			return 0, 0
		}
		found = match + 1
		i = match + 1
	}
	return found, parentIndent
}

// yamlLine reports a line's indentation and its text, treating a sequence
// item's "- " as indentation; ok is false for blank lines, comments and
// lines that are only template actions.
func yamlLine(line []byte) (indent int, text string, ok bool) {
	s := strings.TrimRight(string(line), " \t\r")
	trimmed := strings.TrimLeft(s, " ")
	indent = len(s) - len(trimmed)
	for strings.HasPrefix(trimmed, "- ") {
		trimmed = strings.TrimLeft(trimmed[2:], " ")
		indent = len(s) - len(trimmed)
	}
	if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "{{") {
		return 0, "", false
	}
	return indent, trimmed, true
}

// keyOf returns the mapping key a line starts with, unquoted, or "".
func keyOf(text string) string {
	if len(text) > 0 && (text[0] == '"' || text[0] == '\'') {
		q := text[0]
		end := strings.IndexByte(text[1:], q)
		if end < 0 || !strings.HasPrefix(text[end+2:], ":") {
			return ""
		}
		return text[1 : end+1]
	}
	i := strings.Index(text, ":")
	if i <= 0 || (i+1 < len(text) && text[i+1] != ' ') {
		return ""
	}
	return text[:i]
}
