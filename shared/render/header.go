package render

import (
	"bytes"
	"strings"
)

// quickHeader reads apiVersion, kind, metadata.name and metadata.namespace
// of a plain block-style document by scanning its lines, without building a
// YAML tree: on a tree of thousands of manifests the full parse cost more
// than the schema validation after it, which parses each document again
// anyway. Anything it is not sure of (flow style, JSON, anchors, tags,
// quotes with escapes, Lists, Helm hooks, repeated keys) makes it answer
// ok=false, and the document takes the full parse. It does not check the
// rest of the document's syntax: the validator's own parse reports that.
func quickHeader(data []byte) (apiVersion, kind, name, namespace string, ok bool) {
	if bytes.ContainsAny(data, "&*\t") || bytes.Contains(data, []byte("helm.sh/hook")) {
		return "", "", "", "", false
	}
	inMeta, metaIndent := false, -1
	seen := map[string]bool{}
	for line := range bytes.Lines(data) {
		text := strings.TrimRight(string(line), "\r\n")
		body := strings.TrimLeft(text, " ")
		if body == "" || body[0] == '#' {
			continue
		}
		indent := len(text) - len(body)
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
