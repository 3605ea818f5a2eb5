// Package wrappertest checks, for any list of steps, the properties the
// generated wrappers must keep: that they parse, that every flag appears
// under the right name with the same default in the action and the task,
// and that a value passed the way the GitHub runner or the Azure agent
// passes it reaches the flag. shared/wrapper runs it on fake steps,
// tools/wrappergen on the real ones.
package wrappertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/wrapper"
)

// Action is the part of an action.yml the checks read.
type Action struct {
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	InputsNode  yaml.Node `yaml:"inputs"`
	OutputsNode yaml.Node `yaml:"outputs"`
	Runs        struct {
		Using string         `yaml:"using"`
		Image string         `yaml:"image"`
		Steps []CompositeRun `yaml:"steps"`
	} `yaml:"runs"`
}

// ActionInput is one input of an action.yml.
type ActionInput struct {
	Description string  `yaml:"description"`
	Required    bool    `yaml:"required"`
	Default     *string `yaml:"default"`
}

// ActionOutput is one output of an action.yml.
type ActionOutput struct {
	Description string `yaml:"description"`
	Value       string `yaml:"value"`
}

// CompositeRun is one step of a composite action.
type CompositeRun struct {
	ID    string    `yaml:"id"`
	If    string    `yaml:"if"`
	Uses  string    `yaml:"uses"`
	With  yaml.Node `yaml:"with"`
	Shell string    `yaml:"shell"`
	Run   string    `yaml:"run"`
}

// Task is the part of a task.json the checks read.
type Task struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	FriendlyName        string `json:"friendlyName"`
	MinimumAgentVersion string `json:"minimumAgentVersion"`
	Inputs              []struct {
		Name         string          `json:"name"`
		Type         string          `json:"type"`
		Label        string          `json:"label"`
		DefaultValue string          `json:"defaultValue"`
		Required     bool            `json:"required"`
		HelpMarkDown string          `json:"helpMarkDown"`
		Options      json.RawMessage `json:"options"`
	} `json:"inputs"`
	OutputVariables []struct {
		Name string `json:"name"`
	} `json:"outputVariables"`
	Execution map[string]struct {
		Target string `json:"target"`
	} `json:"execution"`
}

// Parsed is an action.yml with its inputs and outputs in file order.
type Parsed struct {
	Action
	InputNames  []string
	Inputs      map[string]ActionInput
	OutputNames []string
	Outputs     map[string]ActionOutput
}

// ParseAction parses an action.yml, keeping inputs and outputs in order.
func ParseAction(data []byte) (Parsed, error) {
	p := Parsed{Inputs: map[string]ActionInput{}, Outputs: map[string]ActionOutput{}}
	if err := yaml.Unmarshal(data, &p.Action); err != nil {
		return p, fmt.Errorf("parse action.yml: %w", err)
	}
	var err error
	if p.InputNames, err = orderedYAML(&p.InputsNode, p.Inputs); err != nil {
		return p, fmt.Errorf("inputs: %w", err)
	}
	if p.OutputNames, err = orderedYAML(&p.OutputsNode, p.Outputs); err != nil {
		return p, fmt.Errorf("outputs: %w", err)
	}
	return p, nil
}

// orderedYAML decodes a mapping node into m and returns its keys in order.
func orderedYAML[V any](n *yaml.Node, m map[string]V) ([]string, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a mapping", n.Line)
	}
	var keys []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		var v V
		if err := n.Content[i+1].Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", n.Content[i].Value, err)
		}
		k := n.Content[i].Value
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s: twice", k)
		}
		keys = append(keys, k)
		m[k] = v
	}
	return keys, nil
}

// WithKeys returns a composite step's with: keys and values in order.
func WithKeys(r CompositeRun) ([]string, map[string]string, error) {
	m := map[string]string{}
	keys, err := orderedYAML(&r.With, m)
	return keys, m, err
}

// JSONKeys returns the keys of a JSON object in order.
func JSONKeys(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("want an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("options: %w", err)
		}
		keys = append(keys, t.(string))
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("options: %w", err)
		}
	}
	return keys, nil
}

// GitHubEnv is the variable the GitHub runner sets for an action input:
// INPUT_ + the name upper-cased, spaces to underscores, hyphens kept
// (actions/runner, ContainerActionHandler / ScriptHandler).
func GitHubEnv(input string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(input, " ", "_"))
}

// AzureEnv is the variable the Azure agent sets for a task input: INPUT_ +
// the name upper-cased, dots and spaces to underscores.
func AzureEnv(input string) string {
	return "INPUT_" + strings.ToUpper(strings.NewReplacer(".", "_", " ", "_").Replace(input))
}

// Check runs every property on the steps newSteps returns. newSteps is
// called afresh for each run of a step: flags bind to Destination
// variables, which one run would leave set for the next.
func Check(t *testing.T, newSteps func() []step.Step) {
	t.Helper()
	steps := newSteps()
	for i, s := range steps {
		newStep := func() step.Step { return newSteps()[i] }
		t.Run(s.Name, func(t *testing.T) {
			checkStep(t, s, newStep)
		})
	}
	t.Run("root", func(t *testing.T) { checkRoot(t, steps) })
}

func checkStep(t *testing.T, s step.Step, newStep func() step.Step) {
	ins, err := wrapper.Inputs(s)
	if err != nil {
		t.Fatalf("Inputs(%s) = %v", s.Name, err)
	}
	actionYAML, err := wrapper.GitHubAction(s, "docker://"+wrapper.Image(s))
	if err != nil {
		t.Fatalf("GitHubAction(%s) = %v", s.Name, err)
	}
	taskJSON, err := wrapper.AzureTask(s, wrapper.TaskMajor, 0, 0)
	if err != nil {
		t.Fatalf("AzureTask(%s) = %v", s.Name, err)
	}
	a, err := ParseAction(actionYAML)
	if err != nil {
		t.Fatalf("action.yml of %s: %v", s.Name, err)
	}
	names, inputs := a.InputNames, a.Inputs
	var task Task
	if err := json.Unmarshal(taskJSON, &task); err != nil {
		t.Fatalf("task.json of %s does not parse: %v", s.Name, err)
	}

	t.Run("action", func(t *testing.T) {
		if bytes.Contains(actionYAML, []byte("${{")) {
			t.Errorf("action.yml contains ${{: GitHub evaluates it while loading the action")
		}
		if a.Runs.Using != "docker" || !strings.HasPrefix(a.Runs.Image, "docker://") {
			t.Errorf("runs = %q %q, want docker on a docker:// image", a.Runs.Using, a.Runs.Image)
		}
		var flags []string
		for _, f := range s.AllFlags() {
			flags = append(flags, f.Names()[0])
		}
		if !slices.Equal(names, flags) {
			t.Errorf("action inputs = %v, want the flags in order %v", names, flags)
		}
		for _, in := range ins {
			got := inputs[in.Flag]
			if def := deref(got.Default); def != in.Default {
				t.Errorf("input %s: default %q, want the flag's %q", in.Flag, def, in.Default)
			}
			if got.Default != nil && *got.Default == "" {
				t.Errorf("input %s: empty default written out", in.Flag)
			}
			if got.Description == "" {
				t.Errorf("input %s: no description", in.Flag)
			}
		}
		if want := outputNames(s); !slices.Equal(a.OutputNames, want) {
			t.Errorf("action outputs = %v, want %v", a.OutputNames, want)
		}
	})

	t.Run("task", func(t *testing.T) {
		if !uuidV5(task.ID) {
			t.Errorf("task id %q is not a version 5 UUID", task.ID)
		}
		if len(task.FriendlyName) > 40 {
			t.Errorf("friendlyName %q is longer than 40 characters", task.FriendlyName)
		}
		if e, ok := task.Execution["Node20_1"]; !ok || e.Target != "index.js" {
			t.Errorf("execution = %+v, want Node20_1 running index.js", task.Execution)
		}
		if len(task.Inputs) != len(ins) {
			t.Fatalf("task has %d inputs, step %d", len(task.Inputs), len(ins))
		}
		seen := map[string]bool{}
		for i, in := range ins {
			ti := task.Inputs[i]
			if !wrapper.AzureNamePattern.MatchString(ti.Name) {
				t.Errorf("input %q does not match %s", ti.Name, wrapper.AzureNamePattern)
			}
			if env := AzureEnv(ti.Name); seen[env] {
				t.Errorf("input %q: %s is set for another input too", ti.Name, env)
			} else {
				seen[env] = true
			}
			if ti.Name != step.AzureInputName(in.Flag) {
				t.Errorf("input %d = %q, want %q for --%s", i, ti.Name, step.AzureInputName(in.Flag), in.Flag)
			}
			// The same default in both wrappers, read from the rendered
			// files rather than from Inputs.
			if def := deref(inputs[in.Flag].Default); ti.DefaultValue != def {
				t.Errorf("--%s: task default %q, action default %q", in.Flag, ti.DefaultValue, def)
			}
			if ti.Label == "" {
				t.Errorf("input %q: no label", ti.Name)
			}
			want := wantType(s, in.Flag)
			if ti.Type != want {
				t.Errorf("input %q: type %q, want %q", ti.Name, ti.Type, want)
			}
			if choices := s.Choices[in.Flag]; len(choices) > 0 {
				keys, err := JSONKeys(ti.Options)
				if err != nil {
					t.Errorf("input %q: %v", ti.Name, err)
				}
				if !slices.Equal(keys, choices) {
					t.Errorf("input %q: options %v, want the choices %v", ti.Name, keys, choices)
				}
			} else if len(ti.Options) > 0 {
				t.Errorf("input %q: options on an input without choices", ti.Name)
			}
			if slices.Contains(s.Secrets, in.Flag) && !strings.Contains(ti.HelpMarkDown, "$("+ti.Name+")") {
				t.Errorf("secret input %q: help %q does not say to pass a secret variable", ti.Name, ti.HelpMarkDown)
			}
		}
		var outs, want []string
		for _, o := range task.OutputVariables {
			outs = append(outs, o.Name)
		}
		for _, o := range outputNames(s) {
			want = append(want, step.AzureInputName(o))
		}
		if !slices.Equal(outs, want) {
			t.Errorf("outputVariables = %v, want %v", outs, want)
		}
	})

	// What a pipeline passes must land in the flag: set each input the way
	// the runner or the agent sets it, named as the rendered file names it,
	// run the step's own parser, and read the flag's Destination.
	type platform struct {
		name     string
		env      []string // variable per input, in flag order
		defaults []string // the wrapper's default per input
	}
	var platforms []platform
	gh := platform{name: "github"}
	az := platform{name: "azure"}
	for i, in := range ins {
		gh.env = append(gh.env, GitHubEnv(names[i]))
		gh.defaults = append(gh.defaults, deref(inputs[in.Flag].Default))
		az.env = append(az.env, AzureEnv(task.Inputs[i].Name))
		az.defaults = append(az.defaults, task.Inputs[i].DefaultValue)
	}
	platforms = append(platforms, gh, az)
	for _, p := range platforms {
		t.Run(p.name+"/values", func(t *testing.T) {
			env := ci.Env{}
			want := map[string]string{}
			for i, in := range ins {
				env[p.env[i]], want[in.Flag] = sample(in)
			}
			got := parse(t, newStep(), env)
			for i, in := range ins {
				if g, ok := got[in.Flag]; ok && g != want[in.Flag] {
					t.Errorf("--%s: %s=%q, step read %q, want %q", in.Flag, p.env[i], env[p.env[i]], g, want[in.Flag])
				}
			}
		})
		// A CI system passes every declared input, given or not, with its
		// default: that default must mean what the flag's default means.
		t.Run(p.name+"/defaults", func(t *testing.T) {
			env := ci.Env{}
			for i := range ins {
				env[p.env[i]] = p.defaults[i]
			}
			got := parse(t, newStep(), env)
			base := parse(t, newStep(), ci.Env{})
			for flag, b := range base {
				if got[flag] != b {
					t.Errorf("--%s: with the %s default the step read %q, with no input %q", flag, p.name, got[flag], b)
				}
			}
		})
	}

	t.Run("reference", func(t *testing.T) {
		md, err := wrapper.Reference(s)
		if err != nil {
			t.Fatalf("Reference(%s) = %v", s.Name, err)
		}
		for _, in := range ins {
			row := fmt.Sprintf("| `--%s` | `%s` | `%s` | `%s` |", in.Flag, in.Flag, in.Azure, in.Env())
			if !bytes.Contains(md, []byte(row)) {
				t.Errorf("reference has no row starting %s", row)
			}
		}
		for _, o := range s.Outputs {
			if !bytes.Contains(md, []byte("| `"+o.Name+"` |")) {
				t.Errorf("reference does not list output %s", o.Name)
			}
		}
	})
}

func checkRoot(t *testing.T, steps []step.Step) {
	data, err := wrapper.RootAction(steps, wrapper.Repo, wrapper.Ref)
	if err != nil {
		t.Fatalf("RootAction = %v", err)
	}
	a, err := ParseAction(data)
	if err != nil {
		t.Fatalf("root action.yml: %v", err)
	}
	names, inputs, outs := a.InputNames, a.Inputs, a.Outputs
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite", a.Runs.Using)
	}
	if len(names) == 0 || names[0] != wrapper.StepInput || !inputs[wrapper.StepInput].Required {
		t.Errorf("first input = %v, want a required %q", names, wrapper.StepInput)
	}
	if len(a.Runs.Steps) != len(steps)+1 {
		t.Fatalf("%d composite steps for %d steps, want one each and the unknown-step check", len(a.Runs.Steps), len(steps))
	}
	for i, s := range steps {
		r := a.Runs.Steps[i]
		if want := wrapper.Repo + "/steps/" + s.Name + "@" + wrapper.Ref; r.ID != s.Name || r.Uses != want {
			t.Errorf("composite step %d = id %q uses %q, want %q %q", i, r.ID, r.Uses, s.Name, want)
		}
		if want := "inputs.step == '" + s.Name + "'"; r.If != want {
			t.Errorf("step %s runs if %q, want %q", s.Name, r.If, want)
		}
		keys, with, err := WithKeys(r)
		if err != nil {
			t.Fatalf("step %s with: %v", s.Name, err)
		}
		var flags []string
		for _, f := range s.AllFlags() {
			flags = append(flags, f.Names()[0])
		}
		if !slices.Equal(keys, flags) {
			t.Errorf("step %s is given %v, want its inputs %v", s.Name, keys, flags)
		}
		for _, k := range keys {
			if _, ok := inputs[k]; !ok {
				t.Errorf("step %s is given %s, which the root action does not declare", s.Name, k)
			}
			if want := "${{ inputs." + k + " }}"; with[k] != want {
				t.Errorf("step %s: %s = %q, want %q", s.Name, k, with[k], want)
			}
		}
		for _, o := range s.Outputs {
			if !strings.Contains(outs[o.Name].Value, "steps."+s.Name+".outputs."+o.Name) {
				t.Errorf("root output %s = %q does not read step %s", o.Name, outs[o.Name].Value, s.Name)
			}
		}
	}
	last := a.Runs.Steps[len(steps)]
	for _, s := range steps {
		if !strings.Contains(last.If, "'"+s.Name+"'") {
			t.Errorf("unknown-step check %q does not exclude %s", last.If, s.Name)
		}
	}
	if last.Shell == "" || !strings.Contains(last.Run, "exit") {
		t.Errorf("unknown-step check = shell %q run %q, want a failing script", last.Shell, last.Run)
	}
}

// sample is a value to pass for an input and what the flag should read.
// checkedSamples are values for the flags whose own Action checks them
// while the command line is parsed: any other text would stop the parse.
var checkedSamples = map[string]string{"kubernetes-version": "1.29\n1.37"}

func sample(in wrapper.Input) (pass, want string) {
	if v, ok := checkedSamples[in.Flag]; ok {
		return v + "\n", v
	}
	switch in.Kind {
	case wrapper.List:
		return "first\nsecond, with comma\n", "first\nsecond, with comma"
	case wrapper.Bool:
		b, _ := strconv.ParseBool(in.Default)
		return strconv.FormatBool(!b), strconv.FormatBool(!b)
	case wrapper.Int:
		n, _ := strconv.Atoi(in.Default)
		return strconv.Itoa(n + 7), strconv.Itoa(n + 7)
	case wrapper.Duration:
		d, _ := time.ParseDuration(in.Default)
		return (d + 90*time.Second).String(), (d + 90*time.Second).String()
	}
	if len(in.Choices) > 0 {
		c := in.Choices[len(in.Choices)-1]
		return c, c
	}
	return "value-of-" + in.Flag, "value-of-" + in.Flag
}

// parse runs the step's parser on env with the step's work replaced by
// nothing, and returns each flag's value as read through its Destination.
func parse(t *testing.T, s step.Step, env ci.Env) map[string]string {
	t.Helper()
	s.Action = func(context.Context, *step.Run) error { return nil }
	var stderr bytes.Buffer
	args := []string{"gitship-" + s.Name}
	if code := step.Execute(context.Background(), s, args, env, io.Discard, &stderr); code != step.ExitOK {
		t.Fatalf("gitship-%s with env %v exited %d: %s", s.Name, env, code, stderr.String())
	}
	got := map[string]string{}
	for _, f := range s.AllFlags() {
		if v, ok := destination(f); ok {
			got[f.Names()[0]] = v
		}
	}
	if len(got) == 0 && len(s.Flags) > 0 {
		t.Fatalf("no flag of %s has a Destination: nothing to check", s.Name)
	}
	return got
}

func destination(f cli.Flag) (string, bool) {
	switch ff := f.(type) {
	case *cli.StringFlag:
		if ff.Destination != nil {
			return *ff.Destination, true
		}
	case *cli.StringSliceFlag:
		if ff.Destination != nil {
			return strings.Join(ff.Destination.Value(), "\n"), true
		}
	case *cli.BoolFlag:
		if ff.Destination != nil {
			return strconv.FormatBool(*ff.Destination), true
		}
	case *cli.IntFlag:
		if ff.Destination != nil {
			return strconv.Itoa(*ff.Destination), true
		}
	case *cli.DurationFlag:
		if ff.Destination != nil {
			return ff.Destination.String(), true
		}
	}
	return "", false
}

func wantType(s step.Step, flag string) string {
	if len(s.Choices[flag]) > 0 {
		return "pickList"
	}
	for _, f := range s.AllFlags() {
		if f.Names()[0] != flag {
			continue
		}
		switch f.(type) {
		case *cli.BoolFlag:
			return "boolean"
		case *cli.StringSliceFlag:
			return "multiLine"
		}
	}
	return "string"
}

func outputNames(s step.Step) []string {
	var out []string
	for _, o := range s.Outputs {
		out = append(out, o.Name)
	}
	return out
}

func uuidV5(id string) bool {
	if len(id) != 36 || id[14] != '5' || !strings.ContainsRune("89ab", rune(id[19])) {
		return false
	}
	for i, c := range id {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
