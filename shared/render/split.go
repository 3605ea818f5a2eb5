package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxAliasNodes caps the nodes that aliases may add to one document when
// expanded. Real manifests add a few hundred at most; a YAML bomb adds
// billions, and every tool after us (kubeconform, kubectl) would expand them.
const maxAliasNodes = 100_000

var bom = []byte("\xef\xbb\xbf")

// Split cuts a multi-document YAML (or JSON) stream into resources, keeping
// each document's bytes and starting line. Empty and comment-only documents
// are skipped; a List, or any kind ending in List that has items, becomes
// its items. source names the file in Resource.Source and in errors.
func Split(stream, source string, data []byte) ([]Resource, error) {
	return split(stream, source, data, false, false)
}

// split is Split; quick lets documents whose header quickHeader reads skip
// the full parse, leaving their syntax to the validator that reads them next.
// keep makes a document that cannot be read a Resource with Err set,
// instead of an error for the whole stream.
func split(stream, source string, data []byte, quick, keep bool) ([]Resource, error) {
	docs, err := splitDocs(source, data)
	if err != nil {
		return nil, err
	}
	var out []Resource
	for _, d := range docs {
		parse := parseDoc
		if quick {
			parse = parseDocQuick
		}
		rs, err := parse(source, d.line, d.data)
		if err != nil {
			if rs, err = kept(err, keep, source, d.line, d.data); err != nil {
				return nil, err
			}
		}
		out = append(out, rs...)
	}
	number(stream, out)
	return out, nil
}

// DocumentError is a document that cannot be read as a Kubernetes object:
// invalid YAML, not a mapping, or without kind or apiVersion. Other
// documents of its stream can still be read: with Sources.KeepUnreadable
// it becomes a Resource whose Err it is, as kubeconform reports such a
// document and validates the rest.
type DocumentError struct {
	Source string
	// Line is the line of Source the problem is on, 0 for rendered output;
	// DocLine the line within the document.
	Line, DocLine int
	Msg           string
	// What could be read of the document's header.
	APIVersion, Kind, Name, Namespace string
}

func (e *DocumentError) Error() string {
	if e.Line == 0 {
		return e.Source + ": " + e.Msg
	}
	return e.Source + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// docError is a DocumentError at node n of a document starting at line of
// source (0 when rendered), with what obj, the document's root, says of
// itself.
func docError(source string, line int, n, obj *yaml.Node, format string, args ...any) *DocumentError {
	e := &DocumentError{Source: source, DocLine: n.Line, Msg: fmt.Sprintf(format, args...)}
	if line > 0 {
		e.Line = line + n.Line - 1
	}
	if obj != nil && obj.Kind == yaml.MappingNode {
		md := lookup(obj, "metadata")
		e.APIVersion, e.Kind = scalar(lookup(obj, "apiVersion")), scalar(lookup(obj, "kind"))
		e.Name, e.Namespace = scalar(lookup(md, "name")), scalar(lookup(md, "namespace"))
	}
	return e
}

// kept turns err, from reading the document data that starts at line of
// source (0 when rendered), into an unreadable Resource when keep allows
// and err is about that document alone.
func kept(err error, keep bool, source string, line int, data []byte) ([]Resource, error) {
	var de *DocumentError
	if !keep || !errors.As(err, &de) {
		return nil, err
	}
	return []Resource{{APIVersion: de.APIVersion, Kind: de.Kind, Name: de.Name, Namespace: de.Namespace,
		Source: source, Line: line, Data: data, Err: de}}, nil
}

func number(stream string, rs []Resource) {
	for i := range rs {
		rs[i].Stream, rs[i].Index = stream, i
	}
}

// doc is one document of a stream: its text and the line that text starts on.
type doc struct {
	line int
	data []byte
}

// splitDocs cuts data at "---" lines. Like kubectl, a separator may carry a
// comment but no content, so every document starts on a line of its own.
func splitDocs(source string, data []byte) ([]doc, error) {
	data = bytes.TrimPrefix(data, bom)
	var docs []doc
	start, startLine := 0, 1
	for off, line := 0, 1; off < len(data); line++ {
		next := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			next = off + i + 1
		}
		sep, err := isSeparator(data[off:next])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, line, err)
		}
		if sep {
			docs = appendDoc(docs, startLine, data[start:off])
			start, startLine = next, line+1
		}
		off = next
	}
	return appendDoc(docs, startLine, data[start:]), nil
}

func isSeparator(line []byte) (bool, error) {
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("---"))
	if !ok {
		return false, nil
	}
	if len(rest) == 0 {
		return true, nil
	}
	if rest[0] != ' ' && rest[0] != '\t' {
		return false, nil // "---foo" is a plain scalar, not a separator
	}
	if rest = bytes.TrimSpace(rest); len(rest) == 0 || rest[0] == '#' {
		return true, nil
	}
	return false, errors.New("content after \"---\" is not supported: start the document on the next line")
}

func appendDoc(docs []doc, line int, data []byte) []doc {
	for l := range bytes.Lines(data) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' && !bytes.Equal(l, []byte("...")) {
			if l[0] == '{' {
				if objs := jsonStream(line, data); objs != nil {
					return append(docs, objs...)
				}
			}
			return append(docs, doc{line: line, data: data})
		}
	}
	return docs
}

// jsonStream cuts data, starting at line, into its JSON objects when it is
// several of them one after the other, as kubectl reads such a file (YAML
// takes it for one document and stops at the second); nil when it is not.
func jsonStream(line int, data []byte) []doc {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []doc
	start := 0
	for {
		var v json.RawMessage
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil || len(v) == 0 || v[0] != '{' {
			return nil
		}
		end := int(dec.InputOffset())
		// The object's own text, from its first byte: lines count from there.
		first := start + bytes.IndexByte(data[start:end], '{')
		out = append(out, doc{line: line + bytes.Count(data[:first], []byte("\n")), data: data[first:end]})
		start = end
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// parseDocQuick is parseDoc for a document whose header quickHeader can
// read: that header alone, the body left to the validator's parse.
func parseDocQuick(source string, line int, data []byte) ([]Resource, error) {
	if apiVersion, kind, name, ns, ok := quickHeader(data); ok {
		return []Resource{{APIVersion: apiVersion, Kind: kind, Name: name, Namespace: ns,
			Source: source, Line: line, Data: data}}, nil
	}
	return parseDoc(source, line, data)
}

// parseDoc reads one document. line is where data starts in source, or 0
// when data is rendered output whose lines are not source's.
func parseDoc(source string, line int, data []byte) ([]Resource, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, yamlError(source, line, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, docError(source, line, &extra, nil, "more than one document after a \"...\" end marker; separate documents with \"---\"")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(source, line, err)
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	obj := root.Content[0]
	if obj.Kind == yaml.ScalarNode && obj.ShortTag() == "!!null" {
		return nil, nil // "null", "~": empty, as kubectl reads it
	}
	if aliasNodes(obj, map[*yaml.Node]int{}) > maxAliasNodes {
		return nil, fmt.Errorf("%s: excessive aliasing: aliases expand to more than %d nodes", at(source, line, obj), maxAliasNodes)
	}
	c := chunk{source: source, line: line, lines: bytes.SplitAfter(data, []byte("\n"))}
	return c.objects(obj, data, line, len(c.lines))
}

// chunk is the text of one document, which List items are cut from.
type chunk struct {
	source string
	line   int // where the chunk starts in source; 0 when rendered
	lines  [][]byte
}

// objects turns obj, whose text is data (starting at line of source, 0 when
// not verbatim) and which ends by line end of the chunk, into resources.
func (c *chunk) objects(obj *yaml.Node, data []byte, line, end int) ([]Resource, error) {
	if obj.Kind != yaml.MappingNode {
		return nil, docError(c.source, c.line, obj, nil, "document is not an object")
	}
	kind := scalar(lookup(obj, "kind"))
	if kind == "" {
		return nil, docError(c.source, c.line, obj, obj, "document has no kind")
	}
	apiVersion := scalar(lookup(obj, "apiVersion"))
	if apiVersion == "" {
		return nil, docError(c.source, c.line, obj, obj, "document has no apiVersion")
	}
	if items, itemsEnd, ok := listItems(obj, kind, end); ok {
		var out []Resource
		for i, item := range items.Content {
			itemEnd := itemsEnd
			if i+1 < len(items.Content) {
				itemEnd = items.Content[i+1].Line - 1
			}
			d, exact := c.cut(items, item, itemEnd)
			l := 0
			if exact && c.line > 0 {
				l = c.line + item.Line - 1
			}
			rs, err := c.objects(item, d, l, itemEnd)
			if err != nil {
				return nil, err
			}
			if exact {
				for i := range rs {
					if rs[i].Indent == 0 { // not set deeper, by a List in the item
						rs[i].Indent = item.Column - 1
					}
				}
			}
			out = append(out, rs...)
		}
		return out, nil
	}
	md := lookup(obj, "metadata")
	return []Resource{{
		APIVersion: apiVersion,
		Kind:       kind,
		Name:       scalar(lookup(md, "name")),
		Namespace:  scalar(lookup(md, "namespace")),
		Hook:       scalar(lookup(lookup(md, "annotations"), "helm.sh/hook")),
		Source:     c.source,
		Line:       line,
		Data:       data,
	}}, nil
}

// listItems returns the items of a List kind and the chunk line they end by.
func listItems(obj *yaml.Node, kind string, end int) (*yaml.Node, int, bool) {
	if !strings.HasSuffix(kind, "List") {
		return nil, 0, false
	}
	for i := 0; i+1 < len(obj.Content); i += 2 {
		if obj.Content[i].Value != "items" {
			continue
		}
		items := resolve(obj.Content[i+1])
		if items.Kind == yaml.ScalarNode && items.ShortTag() == "!!null" && kind == "List" {
			return &yaml.Node{Kind: yaml.SequenceNode}, end, true
		}
		if items.Kind != yaml.SequenceNode {
			return nil, 0, false
		}
		if i+2 < len(obj.Content) {
			end = obj.Content[i+2].Line - 1
		}
		return items, end, true
	}
	if kind == "List" {
		return &yaml.Node{Kind: yaml.SequenceNode}, end, true
	}
	return nil, 0, false
}

// cut returns the text of a block sequence item, lines end at most,
// de-indented so that it parses on its own with one line per source line,
// and without the comments that trail it (they introduce the next item).
// When that is impossible (flow style, JSON, aliases to anchors outside the
// item) it re-encodes the item, and reports false.
func (c *chunk) cut(seq, item *yaml.Node, end int) ([]byte, bool) {
	if seq.Style&yaml.FlowStyle != 0 || item.Style&yaml.FlowStyle != 0 || item.Line < 1 || end < item.Line || end > len(c.lines) {
		return reencode(item), false
	}
	indent := item.Column - 1
	var lines [][]byte
	for l := item.Line; l <= end; l++ {
		text := c.lines[l-1]
		body := bytes.TrimLeft(text, " ")
		switch {
		case l == item.Line:
			if len(text) < indent || len(bytes.Trim(text[:indent], " -")) > 0 {
				return reencode(item), false
			}
			lines = append(lines, text[indent:])
		case len(text)-len(body) >= indent:
			lines = append(lines, text[indent:])
		case len(bytes.TrimSpace(body)) == 0 || body[0] == '#':
			lines = append(lines, body)
		default:
			return reencode(item), false
		}
	}
	n := len(lines)
	for n > 1 && (len(bytes.TrimSpace(lines[n-1])) == 0 || lines[n-1][0] == '#') {
		n--
	}
	// Trailing blank lines may belong to a "|+" scalar: then keep them.
	for _, b := range [][]byte{bytes.Join(lines[:n], nil), bytes.Join(lines, nil)} {
		var got yaml.Node
		if err := yaml.Unmarshal(b, &got); err == nil && len(got.Content) == 1 && sameNode(got.Content[0], item) {
			return b, true
		}
	}
	return reencode(item), false
}

func reencode(n *yaml.Node) []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(unalias(n)); err != nil {
		// A node the parser built always encodes; keep the error visible.
		return []byte("# gitship: cannot re-encode: " + err.Error() + "\n")
	}
	_ = enc.Close()
	return b.Bytes()
}

// unalias copies n with aliases replaced by what they point to, in block
// style, so it encodes on its own.
func unalias(n *yaml.Node) *yaml.Node {
	n = resolve(n)
	c := *n
	c.Anchor = ""
	c.Style &^= yaml.FlowStyle | yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = unalias(k)
	}
	return &c
}

func sameNode(a, b *yaml.Node) bool {
	a, b = resolve(a), resolve(b)
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !sameNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// aliasNodes counts the nodes that aliases under n add when expanded,
// stopping soon after maxAliasNodes; a cycle counts as too many. sizes
// memoizes anchored nodes, so the count costs one walk of the document
// however deep the aliasing.
func aliasNodes(n *yaml.Node, sizes map[*yaml.Node]int) int {
	if n.Kind == yaml.AliasNode {
		return expandedSize(n.Alias, sizes)
	}
	total := 0
	for _, k := range n.Content {
		if total += aliasNodes(k, sizes); total > maxAliasNodes {
			break
		}
	}
	return total
}

func expandedSize(n *yaml.Node, sizes map[*yaml.Node]int) int {
	n = resolve(n)
	if s, ok := sizes[n]; ok {
		if s < 0 { // an alias inside its own anchor: the parser allows it
			return maxAliasNodes + 1
		}
		return s
	}
	if n.Anchor != "" {
		sizes[n] = -1
	}
	s := 1
	for _, k := range n.Content {
		if s += expandedSize(k, sizes); s > maxAliasNodes {
			s = maxAliasNodes + 1
			break
		}
	}
	if n.Anchor != "" {
		sizes[n] = s
	}
	return s
}

// checkAliases fails if a document of data expands beyond maxAliasNodes,
// for the files that go-yaml v2 (Helm's values) or kyaml read. What does
// not parse is left to them to report.
func checkAliases(name string, data []byte) error {
	if !bytes.Contains(data, []byte("*")) {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return nil
		}
		if aliasNodes(&doc, map[*yaml.Node]int{}) > maxAliasNodes {
			return fmt.Errorf("%s: excessive aliasing: aliases expand to more than %d nodes", at(name, 1, &doc), maxAliasNodes)
		}
	}
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// at names where n is: source:line when line (where n's chunk starts) is
// known, source alone for rendered output.
func at(source string, line int, n *yaml.Node) string {
	if line == 0 {
		return source
	}
	return source + ":" + strconv.Itoa(line+n.Line-1)
}

var yamlLine = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// yamlError restates a parser error as source:line: message, the line
// counted from the start of source rather than of the document.
func yamlError(source string, line int, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return docError(source, line, &yaml.Node{Line: n}, nil, "%s", m[2])
	}
	return docError(source, line, &yaml.Node{Line: 1}, nil, "%s", strings.TrimPrefix(msg, "yaml: "))
}
