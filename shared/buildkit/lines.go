package buildkit

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// vertexName is how the Dockerfile frontend names the vertex of an
// instruction: "[stage-0 3/4] RUN make", "[builder 2/5] COPY . .".
var vertexName = regexp.MustCompile(`^\[(?:([^\s\]]+) )?(\d+)/(\d+)\] `)

// vertexLine finds the Dockerfile line of the instruction a vertex ran:
// the index-th instruction (FROM is the first) of the stage it names, by
// its AS name or as stage-N. Older daemons report no source range in their
// errors; the vertex's name still says where it failed. 0 when unknown.
func vertexLine(src []byte, name string) int {
	m := vertexName.FindStringSubmatch(name)
	if m == nil {
		return 0
	}
	idx, _ := strconv.Atoi(m[2])
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return 0
	}
	type stage struct {
		name  string
		nodes []*parser.Node
	}
	var stages []stage
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			name := "stage-" + strconv.Itoa(len(stages))
			if a := n.Next; a != nil && a.Next != nil && strings.EqualFold(a.Next.Value, "as") && a.Next.Next != nil {
				name = a.Next.Next.Value
			}
			stages = append(stages, stage{name: strings.ToLower(name)})
		}
		if len(stages) > 0 { // ARGs before the first FROM belong to no stage
			s := &stages[len(stages)-1]
			s.nodes = append(s.nodes, n)
		}
	}
	for _, s := range stages {
		if (s.name == strings.ToLower(m[1]) || m[1] == "" && len(stages) == 1) && idx >= 1 && idx <= len(s.nodes) {
			return s.nodes[idx-1].StartLine
		}
	}
	return 0
}
