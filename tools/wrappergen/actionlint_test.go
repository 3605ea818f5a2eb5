package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/urfave/cli/v2"
)

// TestActionlint checks the GitHub side with actionlint, the linter
// GitHub users run on their workflows: the example workflow, and a
// workflow that uses every step's action (and the root action) with every
// input, which makes actionlint read and check each action.yml as a local
// action and its inputs against the metadata.
func TestActionlint(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// A project of symlinks: actionlint resolves ./ actions from the
	// directory holding .github, which the repository itself has not.
	proj := t.TempDir()
	for _, name := range []string{"steps", "action.yml"} {
		if err := os.Symlink(filepath.Join(root, name), filepath.Join(proj, name)); err != nil {
			t.Fatal(err)
		}
	}
	workflows := filepath.Join(proj, ".github", "workflows")
	if err := os.MkdirAll(workflows, 0o755); err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "examples", "pipelines", "github-deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"github-deploy.yml": string(example), "every-input.yml": everyInput()}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(workflows, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	project, err := actionlint.NewProject(proj)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	linter, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{Oneline: true})
	if err != nil {
		t.Fatal(err)
	}
	for name := range files {
		errs, err := linter.LintFile(filepath.Join(workflows, name), project)
		if err != nil {
			t.Fatalf("actionlint %s: %v", name, err)
		}
		for _, e := range errs {
			t.Errorf("actionlint %s:%d:%d: %s [%s]", name, e.Line, e.Column, e.Message, e.Kind)
		}
	}
}

// everyInput is a workflow with one job per step using its action with
// every input set, and one using the root action.
func everyInput() string {
	var b strings.Builder
	b.WriteString("name: every-input\non: push\npermissions:\n  contents: read\njobs:\n")
	for _, s := range Steps() {
		fmt.Fprintf(&b, "  %s:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - id: step\n        uses: ./steps/%s\n        with:\n",
			strings.ReplaceAll(s.Name, "-", "_"), s.Name)
		for _, f := range s.AllFlags() {
			v := "x"
			switch f.(type) {
			case *cli.BoolFlag:
				v = "true"
			case *cli.IntFlag:
				v = "1"
			case *cli.DurationFlag:
				v = "1m"
			}
			fmt.Fprintf(&b, "          %s: %q\n", f.Names()[0], v)
		}
		for _, o := range s.Outputs {
			fmt.Fprintf(&b, "      - run: echo \"$OUT\"\n        env:\n          OUT: ${{ steps.step.outputs.%s }}\n", o.Name)
		}
	}
	b.WriteString("  root:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./\n        with:\n          step: lint\n          path: .\n")
	return b.String()
}
