package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/gitship/gitship/shared/dockerfile"
	"github.com/gitship/gitship/shared/finding"
)

// TestImageDockerfile checks images/Dockerfile on BuildKit's own parser:
// that the entrypoint is the file the build writes, that the final image
// runs as root (see images/README.md), and that every step can be built
// with it.
func TestImageDockerfile(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "images", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		t.Fatalf("parse images/Dockerfile: %v", err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatalf("images/Dockerfile: %v", err)
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want a builder and the final image", len(stages))
	}
	build, final := stages[0], stages[1]
	if final.BaseName != "scratch" {
		t.Errorf("final stage FROM %s, want scratch", final.BaseName)
	}

	var binary string
	var stepArg bool
	for _, c := range build.Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				stepArg = stepArg || a.Key == "STEP"
			}
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if !strings.Contains(line, "go build") {
				continue
			}
			if !stepArg {
				t.Errorf("go build runs before ARG STEP: ${STEP} would be empty")
			}
			for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./steps/${STEP}"} {
				if !strings.Contains(line, want) {
					t.Errorf("go build line %q lacks %s", line, want)
				}
			}
			fields := strings.Fields(line)
			if i := slices.Index(fields, "-o"); i >= 0 && i+1 < len(fields) {
				binary = fields[i+1]
			}
		case *instructions.CopyCommand:
			if c.From != "" {
				continue
			}
			for _, s := range c.SourcePaths {
				if s == "." {
					continue
				}
				if _, err := os.Stat(filepath.Join(repoRoot, s)); err != nil {
					t.Errorf("COPY %s: not in the repository: %v", s, err)
				}
			}
		}
	}
	rootfs, found := strings.CutPrefix(binary, "/rootfs/")
	if !found {
		t.Fatalf("go build -o %q, want a path under /rootfs/ (the final stage copies /rootfs/ to /)", binary)
	}

	var entrypoint []string
	var copiesRootfs bool
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			t.Errorf("final stage sets USER %s: GitHub Docker actions and Cloud Build need root (images/README.md)", c.User)
		case *instructions.CopyCommand:
			copiesRootfs = copiesRootfs || (c.From == build.Name && slices.Equal(c.SourcePaths, []string{"/rootfs/"}) && c.DestPath == "/")
		case *instructions.EntrypointCommand:
			if !c.PrependShell {
				entrypoint = c.CmdLine
			} else {
				t.Errorf("ENTRYPOINT in shell form: scratch has no shell")
			}
		}
	}
	if !copiesRootfs {
		t.Errorf("final stage does not COPY --from=%s /rootfs/ /", build.Name)
	}
	if len(entrypoint) != 1 || entrypoint[0] != "/"+rootfs {
		t.Errorf("ENTRYPOINT %q, want [\"/%s\"], the binary the build writes", entrypoint, rootfs)
	}
	if strings.Contains(strings.Join(entrypoint, " "), "$") {
		t.Errorf("ENTRYPOINT %q: exec form does not expand variables", entrypoint)
	}

	// Every step the wrappers publish has an image to run: its main
	// package is where the Dockerfile builds it from.
	for _, s := range Steps() {
		if _, err := os.Stat(filepath.Join(repoRoot, "steps", s.Name, "main.go")); err != nil {
			t.Errorf("step %s: no steps/%s/main.go for images/Dockerfile to build: %v", s.Name, s.Name, err)
		}
	}
}

// TestImageDockerfileLint lints images/Dockerfile with gitship's own rules.
func TestImageDockerfileLint(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "images", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range dockerfile.Lint("images/Dockerfile", src, dockerfile.Options{}) {
		if f.Severity >= finding.Warning {
			t.Errorf("%s", f)
		}
	}
}

// TestImageUsers checks /etc/passwd and /etc/group of the image: root,
// and gitship as uid and gid 1001, well-formed lines.
func TestImageUsers(t *testing.T) {
	tests := []struct {
		file   string
		fields int
		want   []string
	}{
		{"passwd", 7, []string{"root:x:0:0:", "gitship:x:1001:1001:"}},
		{"group", 4, []string{"root:x:0:", "gitship:x:1001:"}},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join(repoRoot, "images", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if n := len(strings.Split(sc.Text(), ":")); n != tt.fields {
				t.Errorf("images/%s: %q has %d fields, want %d", tt.file, sc.Text(), n, tt.fields)
			}
			lines = append(lines, sc.Text())
		}
		for _, w := range tt.want {
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
				t.Errorf("images/%s has no line starting %q", tt.file, w)
			}
		}
	}
}
