package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ErrDockerfileNotFound is returned (wrapped, with the path) when the
// Dockerfile to build does not exist.
var ErrDockerfileNotFound = errors.New("Dockerfile not found")

// ErrUnknownTarget is returned (in a *TargetError) when the target stage is
// not in the Dockerfile.
var ErrUnknownTarget = errors.New("unknown target stage")

// TargetError names the target asked for and the stages the Dockerfile has.
type TargetError struct {
	Target     string
	Dockerfile string
	Stages     []string // the named stages, in order
}

func (e *TargetError) Error() string {
	has := "it has no named stages"
	if len(e.Stages) > 0 {
		q := make([]string, len(e.Stages))
		for i, s := range e.Stages {
			q[i] = fmt.Sprintf("%q", s)
		}
		has = "its stages are " + strings.Join(q, ", ")
	}
	return fmt.Sprintf("target stage %q is not in %s: %s", e.Target, e.Dockerfile, has)
}

// Unwrap makes errors.Is(err, ErrUnknownTarget) hold.
func (e *TargetError) Unwrap() error { return ErrUnknownTarget }

// ErrSyntax is wrapped (in a *SyntaxError) by a Dockerfile the parser
// refuses.
var ErrSyntax = errors.New("Dockerfile syntax error")

// SyntaxError is a Dockerfile BuildKit's parser refuses, with the line it
// names: found before the engine is asked for anything.
type SyntaxError struct {
	Dockerfile string // the path as the caller gave it
	Line       int    // 0 when the parser names none
	Err        error
}

func (e *SyntaxError) Error() string {
	at := e.Dockerfile
	if e.Line > 0 {
		at = fmt.Sprintf("%s:%d", e.Dockerfile, e.Line)
	}
	return fmt.Sprintf("parse %s: %s", at, e.Detail())
}

// Detail is the parser's message without the file and line.
func (e *SyntaxError) Detail() string {
	return parserPrefix.ReplaceAllString(e.Err.Error(), "")
}

// parserPrefix is what BuildKit puts before a message with a line, which
// the error already names.
var parserPrefix = regexp.MustCompile(`^dockerfile parse error on line \d+: `)

// Unwrap makes errors.Is(err, ErrSyntax) hold, and keeps the parser's error.
func (e *SyntaxError) Unwrap() []error { return []error{ErrSyntax, e.Err} }

func syntaxError(display string, err error) error {
	se := &SyntaxError{Dockerfile: display, Err: err}
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		se.Line = le.Locations[0][0].Start.Line
	}
	return se
}

// dockerfile is a parsed Dockerfile: enough to check a target before the
// build and to point at the line of a failing instruction after it.
type dockerfile struct {
	path   string
	stages []string // stage names, "" for unnamed ones
	nodes  []*parser.Node
}

// readDockerfile parses the Dockerfile with BuildKit's parser, the one
// docker build uses, so what it rejects the engine would reject too.
// Messages name it display, the path as the caller gave it.
func readDockerfile(path, display string) (*dockerfile, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrDockerfileNotFound, display)
	}
	if err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, syntaxError(display, err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, syntaxError(display, err)
	}
	df := &dockerfile{path: display, nodes: res.AST.Children}
	for _, s := range stages {
		df.stages = append(df.stages, s.Name)
	}
	return df, nil
}

// checkTarget returns a *TargetError unless target names a stage. Stage
// names are case-insensitive, as in the builder.
func (df *dockerfile) checkTarget(target string) error {
	var named []string
	for _, s := range df.stages {
		if strings.EqualFold(s, target) {
			return nil
		}
		if s != "" {
			named = append(named, s)
		}
	}
	return &TargetError{Target: target, Dockerfile: df.path, Stages: named}
}

// line finds the line of the instruction the builder printed as a step
// ("RUN echo a &&     echo b" for a continued line), or 0 when none or
// more than one instruction reads the same.
func (df *dockerfile) line(instruction string) int {
	want := strings.Join(strings.Fields(instruction), " ")
	found := 0
	for _, n := range df.nodes {
		if strings.Join(strings.Fields(n.Original), " ") != want {
			continue
		}
		if found != 0 {
			return 0
		}
		found = n.StartLine
	}
	return found
}
