package wrapper

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/step"
)

// Where the wrappers point by default; tools/wrappergen uses these so the
// actions, the tasks and the docs agree.
const (
	// Repo is the GitHub repository that holds the actions.
	Repo = "gitship/gitship"
	// Ref is the tag the actions and images are published under: the
	// major version, moved on every release of it.
	Ref = "v0"
	// Registry holds the step images, gitship-<step>:<Ref>.
	Registry = "ghcr.io/gitship"
	// DocsURL is where docs/steps/<step>.md is read on the web.
	DocsURL = "https://github.com/gitship/gitship/blob/main/docs/steps/"
	// TaskMajor is the major version of every Azure task: the folder is
	// <Title>V<TaskMajor> and pipelines say GitshipLint@<TaskMajor>.
	TaskMajor = 1
)

// Image is the step's image reference, e.g. ghcr.io/gitship/gitship-lint:v0.
func Image(s step.Step) string { return Registry + "/gitship-" + s.Name + ":" + Ref }

// Kind is how an input's value is read.
type Kind int

// The kinds of input, one per flag type the framework reads from env.
const (
	String Kind = iota
	List        // repeatable flag: one item per line, or comma separated
	Bool
	Int
	Duration
)

// Input is one flag as every wrapper shows it.
type Input struct {
	// Flag is the flag's name, also the GitHub input name: fail-on.
	Flag string
	// Azure is the task.json input name: failOn.
	Azure string
	// Usage is the flag's help text.
	Usage string
	// Default is the default as a CI system passes it: a list one item
	// per line, a bool "true" or "false"; empty when there is none.
	Default string
	Kind    Kind
	// Lines is a List whose items hold commas: one item per line only.
	Lines    bool
	Choices  []string
	Secret   bool
	Required bool
	// Example is the value the docs' snippets show, from Step.Examples.
	Example string
}

var (
	// stepName keeps image names, folder titles and URLs simple.
	stepName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	// flagName: lower-case words joined by single hyphens, so the GitHub
	// name, the Azure camelCase name and the env names are all well formed
	// and map back to one flag.
	flagName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	// AzureNamePattern is what tasks.schema.json allows for an input name.
	AzureNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
)

// Inputs lists the step's inputs (its flags and the common ones) in flag
// order, and checks that every wrapper can express them.
func Inputs(s step.Step) ([]Input, error) {
	if !stepName.MatchString(s.Name) {
		return nil, fmt.Errorf("step %q: name must be lower-case words joined by hyphens", s.Name)
	}
	if strings.TrimSpace(s.Description) == "" {
		return nil, fmt.Errorf("step %q: no description", s.Name)
	}
	flags := s.AllFlags()
	byName := map[string]cli.Flag{}
	byEnv := map[string]string{} // INPUT_FOOBAR → flag, as Azure and EnvNames spell it
	var ins []Input
	for _, f := range flags {
		in, err := input(f)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", s.Name, err)
		}
		if _, dup := byName[in.Flag]; dup {
			return nil, fmt.Errorf("step %q: flag %q declared twice", s.Name, in.Flag)
		}
		byName[in.Flag] = f
		// fail-on and failon would both be read from INPUT_FAILON.
		env := "INPUT_" + strings.ToUpper(in.Azure)
		if other, dup := byEnv[env]; dup {
			return nil, fmt.Errorf("step %q: flags %q and %q are both Azure input %s", s.Name, other, in.Flag, env)
		}
		byEnv[env] = in.Flag
		ins = append(ins, in)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Examples)) {
		i := slices.IndexFunc(ins, func(in Input) bool { return in.Flag == name })
		if i < 0 {
			return nil, fmt.Errorf("step %q: example for %q, which is not a flag", s.Name, name)
		}
		ins[i].Example = s.Examples[name]
	}
	for _, name := range s.LineLists {
		i := slices.IndexFunc(ins, func(in Input) bool { return in.Flag == name })
		if i < 0 || ins[i].Kind != List {
			return nil, fmt.Errorf("step %q: line list %q is not a list flag", s.Name, name)
		}
		ins[i].Lines = true
	}
	for _, name := range s.Secrets {
		i := slices.IndexFunc(ins, func(in Input) bool { return in.Flag == name })
		if i < 0 {
			return nil, fmt.Errorf("step %q: secret %q is not a flag", s.Name, name)
		}
		ins[i].Secret = true
	}
	for _, name := range slices.Sorted(maps.Keys(s.Choices)) {
		i := slices.IndexFunc(ins, func(in Input) bool { return in.Flag == name })
		if i < 0 {
			return nil, fmt.Errorf("step %q: choices for %q, which is not a flag", s.Name, name)
		}
		in := &ins[i]
		if in.Kind != String {
			return nil, fmt.Errorf("step %q: choices for %q: only a string flag can be a pick list", s.Name, name)
		}
		choices := s.Choices[name]
		if len(choices) == 0 {
			return nil, fmt.Errorf("step %q: empty choices for %q", s.Name, name)
		}
		if in.Default != "" && !slices.Contains(choices, in.Default) {
			return nil, fmt.Errorf("step %q: default %q of %q is not one of its choices %v", s.Name, in.Default, name, choices)
		}
		in.Choices = slices.Clone(choices)
	}
	for _, o := range s.Outputs {
		// Outputs are kebab-case like inputs; Azure's output variables
		// follow the input name rule, so they take the camelCase form.
		if !AzureNamePattern.MatchString(step.AzureInputName(o.Name)) || strings.ToLower(o.Name) != o.Name {
			return nil, fmt.Errorf("step %q: output %q: want lower-case letters, digits and hyphens", s.Name, o.Name)
		}
		if err := noExpression("output "+o.Name, o.Description); err != nil {
			return nil, fmt.Errorf("step %q: %w", s.Name, err)
		}
	}
	return ins, nil
}

func input(f cli.Flag) (Input, error) {
	name := f.Names()[0]
	if !flagName.MatchString(name) {
		return Input{}, fmt.Errorf("flag %q: name must be lower-case words joined by hyphens", name)
	}
	in := Input{Flag: name, Azure: step.AzureInputName(name)}
	if !AzureNamePattern.MatchString(in.Azure) {
		return Input{}, fmt.Errorf("flag %q: Azure input name %q does not match %s", name, in.Azure, AzureNamePattern)
	}
	switch ff := f.(type) {
	case *cli.StringFlag:
		in.Kind, in.Usage, in.Default, in.Required = String, ff.Usage, ff.Value, ff.Required
	case *cli.StringSliceFlag:
		in.Kind, in.Usage, in.Required = List, ff.Usage, ff.Required
		if ff.Value != nil {
			in.Default = strings.Join(ff.Value.Value(), "\n")
		}
	case *cli.BoolFlag:
		in.Kind, in.Usage, in.Default, in.Required = Bool, ff.Usage, strconv.FormatBool(ff.Value), ff.Required
	case *cli.IntFlag:
		in.Kind, in.Usage, in.Default, in.Required = Int, ff.Usage, strconv.Itoa(ff.Value), ff.Required
	case *cli.DurationFlag:
		in.Kind, in.Usage, in.Default, in.Required = Duration, ff.Usage, ff.Value.String(), ff.Required
	default:
		// The framework reads env for these types only (step.documentEnv);
		// a wrapper for another would promise an input nobody reads.
		return Input{}, fmt.Errorf("flag %q: type %T has no wrapper: use a string, string slice, bool, int or duration flag", name, f)
	}
	if strings.TrimSpace(in.Usage) == "" {
		return Input{}, fmt.Errorf("flag %q: no usage text: every input is documented from it", name)
	}
	if err := noExpression("flag "+name, in.Usage+in.Default); err != nil {
		return Input{}, err
	}
	return in, nil
}

// noExpression refuses ${{ in text that lands in an action.yml: GitHub
// evaluates expressions even in descriptions and defaults, and fails to
// load the action when the context (secrets, github) is not available.
func noExpression(what, text string) error {
	if strings.Contains(text, "${{") {
		return fmt.Errorf("%s: text contains ${{, which GitHub would evaluate when loading the action", what)
	}
	return nil
}

// labelWords are flag words a label spells otherwise: acronyms, and names
// with capitals of their own.
var labelWords = map[string]string{
	"api": "API", "ca": "CA", "crd": "CRD", "gitops": "GitOps", "id": "ID", "oci": "OCI",
	"pr": "PR", "sha": "SHA", "ssh": "SSH", "url": "URL",
}

// Label is the flag name as words, for the Azure task's form:
// kubernetes-version → "Kubernetes version", pr-repository → "PR
// repository", gitops-repo → "GitOps repo".
func (in Input) Label() string {
	words := strings.Split(in.Flag, "-")
	for i, w := range words {
		if l, ok := labelWords[w]; ok {
			words[i] = l
		}
	}
	words[0] = strings.ToUpper(words[0][:1]) + words[0][1:]
	return strings.Join(words, " ")
}

// Env is the variable every platform (and a local shell) may set.
func (in Input) Env() string { return step.EnvNames(in.Flag)[0] }

// note is what every description adds to the usage: how lists are passed
// and which values are allowed, unless the usage already names them all.
func (in Input) note() string {
	var parts []string
	switch {
	case in.Kind == List && in.Lines:
		parts = append(parts, "A list: one item per line.")
	case in.Kind == List:
		parts = append(parts, "A list: one item per line, or comma separated on one line.")
	}
	named := !slices.ContainsFunc(in.Choices, func(c string) bool { return !strings.Contains(in.Usage, c) })
	if len(in.Choices) > 0 && !named {
		parts = append(parts, "One of: "+strings.Join(in.Choices, ", ")+".")
	}
	return strings.Join(parts, " ")
}

func sentence(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			if !strings.HasSuffix(p, ".") {
				p += "."
			}
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}
