package wrapper_test

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/internal/wrappertest"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/wrapper"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// demoStep has one flag of every kind the wrappers know, a secret, pick
// lists, a list default of two items, a value YAML must quote and a
// hyphenated name, so the golden files show every shape once.
func demoStep() step.Step {
	var s struct {
		Paths        cli.StringSlice
		Format, Fail string
		DryRun       bool
		Max          int
		Timeout      time.Duration
		Token, Note  string
	}
	return step.Step{
		Name:        "demo-check",
		Description: "Check a demo repository: the fake step of the wrapper tests.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "path", Value: cli.NewStringSlice(".", "charts"), Destination: &s.Paths,
				Usage: "file or directory to check (repeatable)"},
			&cli.StringFlag{Name: "format", Value: "text", Destination: &s.Format,
				Usage: "report format"},
			&cli.StringFlag{Name: "fail-on", Value: "error", Destination: &s.Fail,
				Usage: "fail at or above this severity"},
			&cli.BoolFlag{Name: "dry-run", Destination: &s.DryRun,
				Usage: "say what would be done | and do nothing"},
			&cli.IntFlag{Name: "max-findings", Value: 50, Destination: &s.Max,
				Usage: "stop after this many findings"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Destination: &s.Timeout,
				Usage: "give up after this long"},
			&cli.StringFlag{Name: "api-token", Destination: &s.Token,
				Usage: "token for the demo API"},
			&cli.StringFlag{Name: "note", Value: `it's: "quoted" #1`, Destination: &s.Note,
				Usage: "free text that YAML must quote"},
		},
		Secrets: []string{"api-token"},
		Choices: map[string][]string{
			"format":  {"text", "json", "sarif"},
			"fail-on": {"error", "warning", "info", "none"},
		},
		Outputs: []step.OutputSpec{
			{Name: "findings", Description: "number of findings"},
			{Name: "report", Description: "path of the report"},
		},
	}
}

// otherStep shares inputs with demoStep: format and path with other
// defaults, outputs-file and report the same, so the root action has
// conflicts to report and outputs to merge.
func otherStep() step.Step {
	var s struct {
		Paths  cli.StringSlice
		Format string
		Push   bool
	}
	return step.Step{
		Name:        "other",
		Description: "Another fake step.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "json", Destination: &s.Format, Usage: "output format"},
			&cli.StringSliceFlag{Name: "path", Value: cli.NewStringSlice("."), Destination: &s.Paths, Usage: "where to look"},
			&cli.BoolFlag{Name: "push", Value: true, Destination: &s.Push, Usage: "push the result"},
		},
		Choices: map[string][]string{"format": {"json", "yaml"}},
		Outputs: []step.OutputSpec{
			{Name: "report", Description: "path of the report"},
			{Name: "digest", Description: "digest pushed"},
		},
	}
}

func fakeSteps() []step.Step { return []step.Step{demoStep(), otherStep()} }

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		render func() ([]byte, error)
	}{
		{"github action", "demo-check.action.yml", func() ([]byte, error) {
			return wrapper.GitHubAction(demoStep(), "docker://"+wrapper.Image(demoStep()))
		}},
		{"root action", "root.action.yml", func() ([]byte, error) {
			return wrapper.RootAction(fakeSteps(), "gitship/gitship", "v0")
		}},
		{"azure task", "demo-check.task.json", func() ([]byte, error) { return wrapper.AzureTask(demoStep(), 1, 2, 3) }},
		{"shim config", "demo-check.step.json", func() ([]byte, error) { return wrapper.ShimConfig(demoStep()) }},
		{"extension", "vss-extension.json", func() ([]byte, error) { return wrapper.VSSExtension(fakeSteps(), "0.4.1") }},
		{"reference", "demo-check.md", func() ([]byte, error) { return wrapper.Reference(demoStep()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.render()
			if err != nil {
				t.Fatalf("render = %v", err)
			}
			// Maps (Choices) are ranged in random order: render again and
			// demand the same bytes.
			for range 5 {
				again, err := tt.render()
				if err != nil || !bytes.Equal(again, got) {
					t.Fatalf("second render differs (err %v): output is not deterministic", err)
				}
			}
			golden(t, tt.golden, got)
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./shared/wrapper -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./shared/wrapper -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestProperties(t *testing.T) {
	wrappertest.Check(t, fakeSteps)
}

func TestRootActionMergesInputs(t *testing.T) {
	data, err := wrapper.RootAction(fakeSteps(), "gitship/gitship", "v0")
	if err != nil {
		t.Fatalf("RootAction = %v", err)
	}
	a, err := wrappertest.ParseAction(data)
	if err != nil {
		t.Fatal(err)
	}
	inputs, outputs := a.Inputs, a.Outputs
	tests := []struct {
		input       string
		wantDefault string
		conflict    bool
	}{
		{"format", "", true},        // text vs json
		{"path", "", true},          // ".\ncharts" vs "."
		{"fail-on", "error", false}, // demo-check only
		{"push", "true", false},     // other only
		{"outputs-file", "", false}, // both, no default
	}
	for _, tt := range tests {
		in, ok := inputs[tt.input]
		if !ok {
			t.Errorf("root action has no input %s", tt.input)
			continue
		}
		if got := deref(in.Default); got != tt.wantDefault {
			t.Errorf("%s default = %q, want %q", tt.input, got, tt.wantDefault)
		}
		if got := strings.Contains(in.Description, "depends on the step"); got != tt.conflict {
			t.Errorf("%s description %q: says the default depends on the step = %v, want %v", tt.input, in.Description, got, tt.conflict)
		}
	}
	// Steps that mean different things by one input each get their say.
	if d := inputs["format"].Description; !strings.Contains(d, "demo-check: report format") || !strings.Contains(d, "other: output format. One of: json, yaml") {
		t.Errorf("format description %q does not give each step's", d)
	}
	if d := inputs["outputs-file"].Description; strings.Contains(d, "demo-check:") {
		t.Errorf("outputs-file description %q names steps although they agree", d)
	}
	if got, want := outputs["report"].Value, "${{ steps.demo-check.outputs.report || steps.other.outputs.report }}"; got != want {
		t.Errorf("report value = %q, want %q", got, want)
	}
}

// TestRootActionMergesOutputs: an output several steps set with different
// meanings (build's digest of an OCI layout, publish's digest of the pushed
// manifest) is described by each step, as an input is; one they agree on
// keeps its one description.
func TestRootActionMergesOutputs(t *testing.T) {
	other := otherStep()
	other.Outputs[0].Description = "path of the JSON report" // report
	demo := demoStep()
	demo.Outputs = append(demo.Outputs, step.OutputSpec{Name: "digest", Description: "digest pushed"})
	data, err := wrapper.RootAction([]step.Step{demo, other}, "gitship/gitship", "v0")
	if err != nil {
		t.Fatalf("RootAction = %v", err)
	}
	a, err := wrappertest.ParseAction(data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Outputs["report"].Description, "demo-check: path of the report. other: path of the JSON report. Set by: demo-check, other."; got != want {
		t.Errorf("report description = %q, want %q", got, want)
	}
	if got, want := a.Outputs["digest"].Description, "digest pushed. Set by: demo-check, other."; got != want {
		t.Errorf("digest description = %q, want %q", got, want)
	}
}

// TestReferenceEngineStep: a step with --docker-host talks to a container
// engine, so its reference says where the socket comes from and its docker
// run example mounts it; other steps' references do not.
func TestReferenceEngineStep(t *testing.T) {
	s := otherStep()
	var host string
	s.Flags = append(s.Flags, &cli.StringFlag{Name: wrapper.DockerHostFlag, Destination: &host, Usage: "engine address"})
	md, err := wrapper.Reference(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"](" + wrapper.EngineDoc + ")",
		"mounts its Docker socket",
		"a Linux agent with Docker",
		"the build's Docker socket at `/var/run/docker.sock`",
		`--group-add "$(stat -c %g /var/run/docker.sock)"`,
		"-v /var/run/docker.sock:/var/run/docker.sock -v \"$PWD:/workspace\" " + wrapper.Image(s),
	} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("reference of an engine step lacks %q:\n%s", want, md)
		}
	}
	plain, err := wrapper.Reference(otherStep())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain, []byte("docker.sock")) {
		t.Errorf("reference of a step without --%s mentions the socket:\n%s", wrapper.DockerHostFlag, plain)
	}
}

func TestInvalidDeclarations(t *testing.T) {
	tests := []struct {
		name   string
		change func(*step.Step)
		want   string
	}{
		{"underscore in flag", func(s *step.Step) { s.Flags[1].(*cli.StringFlag).Name = "fail_on" }, "lower-case words"},
		{"capital in flag", func(s *step.Step) { s.Flags[1].(*cli.StringFlag).Name = "failOn" }, "lower-case words"},
		{"same Azure variable", func(s *step.Step) {
			s.Flags = append(s.Flags, &cli.StringFlag{Name: "failon", Usage: "x"})
		}, "INPUT_FAILON"},
		{"flag twice", func(s *step.Step) { s.Flags = append(s.Flags, &cli.StringFlag{Name: "note", Usage: "x"}) }, "declared twice"},
		{"common flag redeclared", func(s *step.Step) {
			s.Flags = append(s.Flags, &cli.StringFlag{Name: step.OutputsFileFlag, Usage: "x"})
		}, "declared twice"},
		{"unknown secret", func(s *step.Step) { s.Secrets = []string{"token"} }, `secret "token"`},
		{"unknown choice", func(s *step.Step) { s.Choices["formats"] = []string{"a"} }, `"formats", which is not a flag`},
		{"default not a choice", func(s *step.Step) { s.Choices["format"] = []string{"json", "sarif"} }, `default "text"`},
		{"choices on a bool", func(s *step.Step) { s.Choices["dry-run"] = []string{"true"} }, "only a string flag"},
		{"unsupported type", func(s *step.Step) {
			s.Flags = append(s.Flags, &cli.Float64Flag{Name: "ratio", Usage: "x"})
		}, "has no wrapper"},
		{"no usage", func(s *step.Step) { s.Flags[1].(*cli.StringFlag).Usage = " " }, "no usage"},
		{"expression in usage", func(s *step.Step) {
			s.Flags[6].(*cli.StringFlag).Usage = "e.g. ${{ secrets.TOKEN }}"
		}, "${{"},
		{"step name", func(s *step.Step) { s.Name = "Demo" }, "lower-case words"},
		{"no description", func(s *step.Step) { s.Description = "" }, "no description"},
		{"output name", func(s *step.Step) { s.Outputs[0].Name = "Report_Path" }, "lower-case letters, digits and hyphens"},
		{"unknown example", func(s *step.Step) { s.Examples = map[string]string{"paht": "."} }, `example for "paht", which is not a flag`},
	}
	renders := map[string]func(step.Step) ([]byte, error){
		"GitHubAction": func(s step.Step) ([]byte, error) { return wrapper.GitHubAction(s, "docker://x") },
		"AzureTask":    func(s step.Step) ([]byte, error) { return wrapper.AzureTask(s, 1, 0, 0) },
		"Reference":    wrapper.Reference,
		"RootAction":   func(s step.Step) ([]byte, error) { return wrapper.RootAction([]step.Step{s}, "o/r", "v1") },
		"VSSExtension": func(s step.Step) ([]byte, error) { return wrapper.VSSExtension([]step.Step{s}, "1.0.0") },
	}
	for _, tt := range tests {
		for _, name := range []string{"GitHubAction", "AzureTask", "Reference", "RootAction", "VSSExtension"} {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				s := demoStep()
				tt.change(&s)
				_, err := renders[name](s)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s = %v, want an error containing %q", name, err, tt.want)
				}
			})
		}
	}
}

func TestInvalidCalls(t *testing.T) {
	flagStep := otherStep()
	flagStep.Flags = append(flagStep.Flags, &cli.StringFlag{Name: "step", Usage: "x"})
	tests := []struct {
		name string
		call func() ([]byte, error)
		want string
	}{
		{"no image", func() ([]byte, error) { return wrapper.GitHubAction(demoStep(), "") }, "no image"},
		{"root without steps", func() ([]byte, error) { return wrapper.RootAction(nil, "o/r", "v1") }, "no steps"},
		{"root without ref", func() ([]byte, error) { return wrapper.RootAction(fakeSteps(), "o/r", "") }, "required"},
		{"root step twice", func() ([]byte, error) {
			return wrapper.RootAction([]step.Step{demoStep(), demoStep()}, "o/r", "v1")
		}, "listed twice"},
		{"root flag named step", func() ([]byte, error) {
			return wrapper.RootAction([]step.Step{flagStep}, "o/r", "v1")
		}, "clashes"},
		{"extension version", func() ([]byte, error) { return wrapper.VSSExtension(fakeSteps(), "v1.0") }, "MAJOR.MINOR.PATCH"},
		{"extension step twice", func() ([]byte, error) {
			return wrapper.VSSExtension([]step.Step{otherStep(), otherStep()}, "1.0.0")
		}, "listed twice"},
		{"long friendly name", func() ([]byte, error) {
			s := otherStep()
			s.Name = "a-step-name-far-too-long-for-azure-ui"
			return wrapper.AzureTask(s, 1, 0, 0)
		}, "longer than 40"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestLabels: the Azure task's form shows each input by a label made from
// the flag name, acronyms in capitals.
func TestLabels(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"path", "Path"},
		{"kubernetes-version", "Kubernetes version"},
		{"fail-on", "Fail on"},
		{"gitops-repo", "GitOps repo"},
		{"pr-repository", "PR repository"},
		{"api-url", "API URL"},
		{"ssh-key-file", "SSH key file"},
		{"crd", "CRD"},
		{"ca-file", "CA file"},
		{"cache", "Cache"},         // a word that starts like one is not one
		{"prune-prs", "Prune prs"}, // whole words only
	}
	for _, tt := range tests {
		if got := (wrapper.Input{Flag: tt.flag}).Label(); got != tt.want {
			t.Errorf("Input{Flag: %q}.Label() = %q, want %q", tt.flag, got, tt.want)
		}
	}
}

func TestTaskNames(t *testing.T) {
	tests := []struct{ step, title, name, dir string }{
		{"lint", "Lint", "GitshipLint", "LintV1"},
		{"gitops-pr", "GitopsPr", "GitshipGitopsPr", "GitopsPrV1"},
		{"a-b-c", "ABC", "GitshipABC", "ABCV1"},
	}
	for _, tt := range tests {
		s := step.Step{Name: tt.step}
		if got := wrapper.TaskTitle(tt.step); got != tt.title {
			t.Errorf("TaskTitle(%q) = %q, want %q", tt.step, got, tt.title)
		}
		if got := wrapper.TaskName(s); got != tt.name {
			t.Errorf("TaskName(%q) = %q, want %q", tt.step, got, tt.name)
		}
		if got := wrapper.TaskDir(s); got != tt.dir {
			t.Errorf("TaskDir(%q) = %q, want %q", tt.step, got, tt.dir)
		}
	}
}

// A task's id is its identity in Azure DevOps: if it changes, every
// pipeline using the task breaks. These are pinned on purpose.
func TestTaskIDsNeverChange(t *testing.T) {
	pinned := map[string]string{
		"lint":      "82f14f26-3b1e-5b7c-898c-7ccf5e36afba",
		"gitops-pr": "e030a846-5dc6-58c5-9403-cf6f5071936c",
	}
	var ids []string
	for _, name := range slices.Sorted(maps.Keys(pinned)) {
		got := wrapper.TaskID(step.Step{Name: name})
		if got != pinned[name] {
			t.Errorf("TaskID(%s) = %s, want %s: a new id makes a new task", name, got, pinned[name])
		}
		ids = append(ids, got)
	}
	if ids[0] == ids[1] {
		t.Errorf("two steps share the id %s", ids[0])
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// A step's examples are what its snippets set, in flag order, a secret
// passed from the CI's secret store, never its example value.
func TestReferenceExamples(t *testing.T) {
	s := demoStep()
	s.Examples = map[string]string{"format": "sarif", s.Secrets[0]: "not-shown"}
	ref, err := wrapper.Reference(s)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(ref)
	for _, want := range []string{"    format: sarif\n", "${{ secrets.", "'--format', 'sarif'", " --format sarif"} {
		if !strings.Contains(doc, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
	if strings.Contains(doc, "not-shown") {
		t.Error("a secret's example value is in the snippets")
	}
}
