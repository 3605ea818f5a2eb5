package render

import (
	"bytes"
	"regexp"
	"strings"
)

// quickHeader reads apiVersion, kind, metadata.name and metadata.namespace
// of a plain block-style document by scanning its lines, without building a
// YAML tree: on a tree of thousands of manifests the full parse cost more
// than the schema validation after it, which parses each document again
// anyway. Anything it is not sure of (flow style, JSON, anchors or aliases
// (mayAlias), tags, quotes with escapes, Lists, Helm hooks, repeated keys,
// a header value going on over lines) makes it answer ok=false, and the
// document takes the full parse. It does not check the
// rest of the document's syntax: the validator's own parse reports that.
func quickHeader(data []byte) (apiVersion, kind, name, namespace string, ok bool) {
	if mayAlias(data) || bytes.Contains(data, []byte("helm.sh/hook")) || loneCR(data) {
		return "", "", "", "", false
	}
	inMeta, metaIndent := false, -1
	seen := map[string]bool{}
	read := -1 // the indentation of a value just read: a deeper line goes on with it
	for line := range bytes.Lines(data) {
		// Most lines are neither at the top nor metadata's: they are
		// skipped as bytes, only the others made strings.
		rest := bytes.TrimLeft(line, " ")
		if len(rest) == 0 || rest[0] == '#' || rest[0] == '\n' || rest[0] == '\r' {
			continue
		}
		indent := len(line) - len(rest)
		if read >= 0 && indent > read {
			if _, _, isKey := splitKey(strings.TrimRight(string(rest), "\r\n")); !isKey {
				// "kind: Deploy" and "  ment" on the next line: one
				// scalar. (A key there is a syntax error, the validator's.)
				return "", "", "", "", false
			}
		}
		read = -1
		if indent != 0 && (!inMeta || (metaIndent >= 0 && indent != metaIndent)) {
			continue
		}
		body := strings.TrimRight(string(rest), "\r\n")
		if indent == 0 {
			if strings.ContainsRune("-?\"'{[%!|>.", rune(body[0])) {
				return "", "", "", "", false
			}
			key, value, isKey := splitKey(body)
			if !isKey || seen[key] {
				return "", "", "", "", false
			}
			seen[key] = true
			inMeta = key == "metadata"
			switch key {
			case "apiVersion", "kind":
				v, simple := plainValue(value)
				if !simple || v == "" {
					return "", "", "", "", false
				}
				if key == "kind" {
					kind = v
				} else {
					apiVersion = v
				}
				read = indent
			case "metadata":
				if value != "" {
					return "", "", "", "", false
				}
			}
			continue
		}
		if !inMeta {
			continue
		}
		if metaIndent < 0 {
			metaIndent = indent
		}
		if indent != metaIndent {
			continue
		}
		key, value, isKey := splitKey(body)
		if !isKey {
			return "", "", "", "", false
		}
		if key == "name" || key == "namespace" {
			v, simple := plainValue(value)
			if !simple || seen["metadata."+key] {
				return "", "", "", "", false
			}
			seen["metadata."+key] = true
			read = indent
			if key == "name" {
				name = v
			} else {
				namespace = v
			}
		}
	}
	if apiVersion == "" || kind == "" || strings.HasSuffix(kind, "List") {
		return "", "", "", "", false
	}
	return apiVersion, kind, name, namespace, true
}

// splitKey reads "key: value" or "key:" with a plain key.
func splitKey(s string) (key, value string, ok bool) {
	i := strings.Index(s, ":")
	if i <= 0 || (i+1 < len(s) && s[i+1] != ' ') {
		return "", "", false
	}
	key = s[:i]
	if strings.ContainsAny(key, " \"'#{}[],&*!|>%@`") {
		return "", "", false
	}
	value = strings.TrimSpace(s[i+1:])
	if j := strings.Index(value, " #"); j >= 0 && value[0] != '"' && value[0] != '\'' {
		value = strings.TrimSpace(value[:j])
	} else if strings.HasPrefix(value, "#") {
		value = ""
	}
	return key, value, true
}

// plainValue unquotes a scalar that needs no YAML to read: plain, or quoted
// without escapes; simple is false for anything else.
func plainValue(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	switch v[0] {
	case '"':
		if len(v) < 2 || v[len(v)-1] != '"' || strings.ContainsAny(v[1:len(v)-1], "\\\"") {
			return "", false
		}
		return v[1 : len(v)-1], true
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' || strings.Contains(v[1:len(v)-1], "'") {
			return "", false
		}
		return v[1 : len(v)-1], true
	case '|', '>', '{', '[', '&', '*', '!', '@', '%', '`', '?', '-':
		return "", false
	}
	if v == "~" || v == "null" || v == "Null" || v == "NULL" {
		return "", true
	}
	return v, true
}

// loneCR reports whether data breaks a line with a "\r" alone, which YAML
// reads as a line break and a line scan does not.
func loneCR(data []byte) bool {
	for i := bytes.IndexByte(data, '\r'); i >= 0; i = bytes.IndexByte(data, '\r') {
		if i+1 == len(data) || data[i+1] != '\n' {
			return true
		}
		data = data[i+1:]
	}
	return false
}

// blockScalar matches the end of a line that starts a block scalar ("|",
// ">-", "|+2", optionally after a tag), the key or "- " before it removed.
var blockScalar = regexp.MustCompile(`^(?:![^ ]* +)?[|>][0-9+-]{0,2} *(?:#.*)?$`)

// mayAlias reports whether a document may hold an anchor or an alias, or a
// tab outside a scalar's text: those take the full parse, which expands
// (and caps) aliases. It answers false only when sure: every "&" and "*"
// that could start a node (first on a line, or after a space, "[", "{",
// "," or ":") is text, in a block scalar or a quoted one, as generated
// CRDs have them by the hundred in Markdown descriptions ("description:
// |-" then "* `alertmanager`"), megabytes of them. A "&" or "*" inside a
// word ("a&b", "x*y") is always text.
func mayAlias(data []byte) bool {
	if !bytes.ContainsAny(data, "&*\t") {
		return false
	}
	block := -1    // the indentation a block scalar's text is deeper than; -1 outside one
	var quote byte // the quote a scalar running over lines ends with; 0 outside one
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if quote != 0 {
			end := quoteEnd(line, quote)
			if end < 0 {
				continue // more of the quoted text
			}
			if !onlyComment(line[end+1:]) {
				return true
			}
			quote = 0
			continue
		}
		body := bytes.TrimLeft(line, " ")
		indent := len(line) - len(body)
		if block >= 0 {
			if len(bytes.Trim(body, " \t")) == 0 || indent > block {
				continue // the scalar's text, or a blank line in it
			}
			block = -1
		}
		if len(body) == 0 || body[0] == '#' {
			continue
		}
		if bytes.IndexByte(line, '\t') >= 0 {
			return true
		}
		// The line's node: past the "- " of sequence entries, then past a
		// plain key. A block scalar's text is deeper than the key, or than
		// the last dash when it is an entry of its own.
		col, parent, value := indent, indent, body
		for len(value) > 0 && value[0] == '-' && (len(value) == 1 || value[1] == ' ') {
			parent = col
			rest := bytes.TrimLeft(value[1:], " ")
			col += len(value) - len(rest)
			value = rest
		}
		if k := keyEnd(value); k > 0 {
			value, parent = bytes.TrimLeft(value[k+1:], " "), col
		}
		plain := body // where a "&" or "*" would be a node's
		if len(value) > 0 && (value[0] == '"' || value[0] == '\'') {
			plain = body[:len(body)-len(value)]
			if end := quoteEnd(value[1:], value[0]); end < 0 {
				quote = value[0]
			} else if !onlyComment(value[end+2:]) {
				return true
			}
		}
		for i, c := range plain {
			if (c == '&' || c == '*') && (i == 0 || bytes.IndexByte([]byte(" [{,:"), plain[i-1]) >= 0) {
				return true
			}
		}
		if unclosedFlow(value) {
			return true
		}
		if blockScalar.Match(value) || plainStart(value) {
			// The lines deeper than the parent are the scalar's text:
			// a block scalar's, or a plain one's going on (anything
			// else there is a syntax error, before any alias expands).
			block = parent
		}
	}
	return quote != 0
}

// plainStart reports whether a value starts a plain scalar.
func plainStart(v []byte) bool {
	if len(v) == 0 || bytes.IndexByte([]byte("\"'[]{}|>&*!#%@`,"), v[0]) >= 0 {
		return false
	}
	return !bytes.ContainsAny(v[:1], "-?:") || (len(v) > 1 && v[1] != ' ')
}

// quoteEnd is the index in s of the quote q that ends a scalar s is the
// text of, or -1 when s does not end it: "”" is a quote in single quotes,
// "\"" in double ones.
func quoteEnd(s []byte, q byte) int {
	for i := 0; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == q:
			return i
		}
	}
	return -1
}

// onlyComment reports whether what follows a closing quote on its line is
// nothing, or a comment.
func onlyComment(s []byte) bool {
	s = bytes.TrimLeft(s, " ")
	return len(s) == 0 || s[0] == '#'
}

// keyEnd is the index of the ":" that ends a plain key at the start of s
// ("key: ..." or "key:"), or -1.
func keyEnd(s []byte) int {
	if len(s) == 0 || bytes.IndexByte([]byte("\"'{[!&*|>%@`?#"), s[0]) >= 0 {
		return -1
	}
	for i, c := range s {
		switch {
		case c == ':' && (i+1 == len(s) || s[i+1] == ' '):
			return i
		case c == '#' && i > 0 && s[i-1] == ' ':
			return -1
		}
	}
	return -1
}

// unclosedFlow reports whether a value starts a flow collection that the
// line may not end: on the next lines, indentation says nothing of what is
// text. Brackets inside quotes cannot be counted: those say true too.
func unclosedFlow(v []byte) bool {
	if len(v) == 0 || (v[0] != '[' && v[0] != '{') {
		return false
	}
	v = bytes.TrimRight(v, " ")
	open := bytes.Count(v, []byte("[")) + bytes.Count(v, []byte("{"))
	shut := bytes.Count(v, []byte("]")) + bytes.Count(v, []byte("}"))
	end := v[len(v)-1]
	return bytes.ContainsAny(v, "\"'#") || open != shut || (end != ']' && end != '}')
}
