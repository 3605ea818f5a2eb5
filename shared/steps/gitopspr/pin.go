package gitopspr

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"
	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/render"
)

// containerLists are the fields holding containers in every workload kind
// (pods, pod templates, job templates), wherever they are nested: what
// Kustomize's images transformer rewrites too.
var containerLists = map[string]bool{"containers": true, "initContainers": true, "ephemeralContainers": true}

// Pin sets the image of every container whose image names one of pins'
// repositories (registry and path, whatever the tag or digest) to that pin,
// REPOSITORY@sha256:..., so the GitOps repository names digests, never
// mutable tags. Only the image values change: every other byte of a
// document stays as rendered. It returns how many containers each pin set;
// a pin that matched nothing is an error, since a deployment that silently
// keeps its old image is worse than a failed step.
func Pin(rs []render.Resource, pins []string) ([]render.Resource, map[string]int, error) {
	if len(pins) == 0 {
		return rs, nil, nil
	}
	want := map[string]string{} // repository → pin
	for _, p := range pins {
		d, err := name.NewDigest(p, name.WeakValidation)
		if err != nil {
			return nil, nil, fmt.Errorf("--image %q: want REPOSITORY@sha256:<digest>, the image output of publish: %w", p, err)
		}
		want[d.Context().Name()] = p
	}
	counts := map[string]int{}
	seen := map[string]bool{}
	out := make([]render.Resource, len(rs))
	for i, r := range rs {
		out[i] = r
		var doc yaml.Node
		if err := yaml.Unmarshal(r.Data, &doc); err != nil {
			continue // validation reports it
		}
		var edits []edit
		walkContainers(&doc, false, func(image *yaml.Node) {
			seen[image.Value] = true
			ref, err := name.ParseReference(image.Value, name.WeakValidation)
			if err != nil {
				return
			}
			if pin, ok := want[ref.Context().Name()]; ok {
				counts[pin]++
				if image.Value != pin {
					edits = append(edits, edit{node: image, value: pin})
				}
			}
		})
		if len(edits) > 0 {
			data, err := apply(r.Data, edits)
			if err != nil {
				return nil, nil, fmt.Errorf("%s %s (%s): %w", r.Kind, r.Name, r.Source, err)
			}
			out[i].Data = data
		}
	}
	var missed []string
	for _, p := range pins {
		if counts[p] == 0 {
			missed = append(missed, p)
		}
	}
	if len(missed) > 0 {
		images := make([]string, 0, len(seen))
		for img := range seen {
			images = append(images, img)
		}
		return nil, nil, fmt.Errorf("--image %s matched no container image (the rendered images are: %s); the repository must be the same, e.g. --image ghcr.io/acme/shop@sha256:... for image ghcr.io/acme/shop:1.0",
			strings.Join(missed, ", "), strings.Join(slices.Sorted(slices.Values(images)), ", "))
	}
	return out, counts, nil
}

// walkContainers calls fn with the image scalar of every container.
func walkContainers(n *yaml.Node, inList bool, fn func(*yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if inList && c.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(c.Content); i += 2 {
					if c.Content[i].Value == "image" && c.Content[i+1].Kind == yaml.ScalarNode {
						fn(c.Content[i+1])
					}
				}
			}
			walkContainers(c, false, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkContainers(n.Content[i+1], containerLists[n.Content[i].Value] && n.Content[i+1].Kind == yaml.SequenceNode, fn)
		}
	}
}

type edit struct {
	node  *yaml.Node
	value string
}

// apply replaces each scalar where it stands in data.
func apply(data []byte, edits []edit) ([]byte, error) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	for _, e := range edits {
		l := e.node.Line - 1
		if l < 0 || l >= len(lines) {
			return nil, fmt.Errorf("image %q: line %d is outside the document", e.node.Value, e.node.Line)
		}
		line := lines[l]
		start := byteOffset(line, e.node.Column-1)
		end, err := scalarEnd(line, start, e.node)
		if err != nil {
			return nil, err
		}
		repl := e.value
		if e.node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			repl = `"` + repl + `"`
		}
		lines[l] = append(append(append([]byte{}, line[:start]...), repl...), line[end:]...)
	}
	return bytes.Join(lines, nil), nil
}

// byteOffset is the byte offset of the n-th character of line.
func byteOffset(line []byte, n int) int {
	off := 0
	for i := 0; i < n && off < len(line); i++ {
		_, size := utf8.DecodeRune(line[off:])
		off += size
	}
	return off
}

// scalarEnd finds where the scalar starting at start ends.
func scalarEnd(line []byte, start int, n *yaml.Node) (int, error) {
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	default:
		if end := start + len(n.Value); end <= len(line) && string(line[start:end]) == n.Value {
			return end, nil
		}
	}
	return 0, fmt.Errorf("image %q on line %d: only single-line image values can be pinned", n.Value, n.Line)
}
