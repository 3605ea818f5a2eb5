package wrapper

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gitship/gitship/shared/step"
)

// branding is the Marketplace look; only the root action is listed there,
// but GitHub shows a step action's branding too when it is browsed.
var branding = mapping{{"icon", "check-circle"}, {"color", "blue"}}

// GitHubAction renders steps/<name>/action.yml: a Docker container action
// on the step's image. No args are passed: the runner hands every input to
// the container as INPUT_<NAME> (hyphens kept), which the step reads.
func GitHubAction(s step.Step, image string) ([]byte, error) {
	ins, err := Inputs(s)
	if err != nil {
		return nil, err
	}
	if image == "" {
		return nil, fmt.Errorf("step %q: no image", s.Name)
	}
	inputs := mapping{}
	for _, in := range ins {
		inputs = append(inputs, pair{in.Flag, githubInput(in, githubDescription(in), in.Default)})
	}
	doc := mapping{
		{"name", "gitship " + s.Name},
		{"description", s.Description},
		{"author", "gitship"},
		{"branding", branding},
		{"inputs", inputs},
	}
	if len(s.Outputs) > 0 {
		outs := mapping{}
		for _, o := range s.Outputs {
			outs = append(outs, pair{o.Name, mapping{{"description", o.Description}}})
		}
		doc = append(doc, pair{"outputs", outs})
	}
	doc = append(doc, pair{"runs", mapping{{"using", "docker"}, {"image", image}}})
	return encodeYAML(doc)
}

func githubInput(in Input, description, def string) mapping {
	m := mapping{{"description", description}, {"required", in.Required}}
	if def != "" {
		m = append(m, pair{"default", def})
	}
	return m
}

func githubDescription(in Input) string {
	secret := ""
	if in.Secret {
		// Plain words, not ${{ secrets.X }}: GitHub would evaluate that
		// here and fail to load the action.
		secret = "Secret: pass it from a repository or organisation secret, never as plain text; it is masked in the log"
	}
	return sentence(in.Usage, in.note(), secret)
}

// StepInput is the root action's input that picks the step.
const StepInput = "step"

// RootAction renders the root action.yml: a composite action that runs any
// step by name (uses: gitship/gitship@v0 with step: lint). Each step runs
// through its own action at repo/steps/<name>@ref: a composite action
// cannot use a path relative to itself, and uses: takes no expressions, so
// the ref is fixed when the file is generated.
func RootAction(steps []step.Step, repo, ref string) ([]byte, error) {
	if len(steps) == 0 {
		return nil, fmt.Errorf("root action: no steps")
	}
	if repo == "" || ref == "" {
		return nil, fmt.Errorf("root action: repo and ref are required")
	}
	type merged struct {
		in       Input
		users    []string
		defaults []string // one per user, to report conflicts
		descs    []string // one per user: steps may mean different things by one name
	}
	var order []string
	byName := map[string]*merged{}
	type outMerged struct {
		steps []string
		descs []string // one per step, as for inputs
	}
	var outOrder []string
	outs := map[string]*outMerged{}
	stepInputs := make([][]Input, len(steps))
	var names []string
	for i, s := range steps {
		if slices.Contains(names, s.Name) {
			return nil, fmt.Errorf("root action: step %q listed twice", s.Name)
		}
		names = append(names, s.Name)
		ins, err := Inputs(s)
		if err != nil {
			return nil, err
		}
		stepInputs[i] = ins
		for _, in := range ins {
			if in.Flag == StepInput {
				return nil, fmt.Errorf("step %q: flag %q clashes with the root action's own input", s.Name, in.Flag)
			}
			m, ok := byName[in.Flag]
			if !ok {
				m = &merged{in: in}
				byName[in.Flag] = m
				order = append(order, in.Flag)
			}
			m.users = append(m.users, s.Name)
			m.defaults = append(m.defaults, in.Default)
			m.descs = append(m.descs, githubDescription(in))
			m.in.Secret = m.in.Secret || in.Secret
		}
		for _, o := range s.Outputs {
			om, ok := outs[o.Name]
			if !ok {
				om = &outMerged{}
				outs[o.Name] = om
				outOrder = append(outOrder, o.Name)
			}
			om.steps = append(om.steps, s.Name)
			om.descs = append(om.descs, sentence(o.Description))
		}
	}

	inputs := mapping{{StepInput, mapping{
		{"description", "The gitship step to run: " + strings.Join(names, ", ") + "."},
		{"required", true},
	}}}
	for _, name := range order {
		m := byName[name]
		def := m.defaults[0]
		var conflict []string
		for i, d := range m.defaults {
			conflict = append(conflict, fmt.Sprintf("%s %q", m.users[i], d))
			if d != def {
				def = ""
			}
		}
		desc := mergeDescriptions(m.users, m.descs)
		if def == "" && slices.ContainsFunc(m.defaults, func(d string) bool { return d != "" }) {
			// One default cannot serve every step: leave it to each step,
			// which reads an empty input as unset.
			desc = sentence(desc, "The default depends on the step: "+strings.Join(conflict, ", "))
		}
		desc = sentence(desc, "Used by: "+strings.Join(m.users, ", "))
		in := m.in
		in.Required = false // required by one step is not required by the others
		inputs = append(inputs, pair{name, githubInput(in, desc, def)})
	}

	var run []any
	for i, s := range steps {
		with := mapping{}
		for _, in := range stepInputs[i] {
			with = append(with, pair{in.Flag, "${{ inputs." + in.Flag + " }}"})
		}
		run = append(run, mapping{
			{"id", s.Name},
			{"if", "inputs." + StepInput + " == '" + s.Name + "'"},
			{"uses", repo + "/steps/" + s.Name + "@" + ref},
			{"with", with},
		})
	}
	var unknown []string
	for _, n := range names {
		unknown = append(unknown, "inputs."+StepInput+" != '"+n+"'")
	}
	run = append(run, mapping{
		{"name", "Unknown step"},
		{"if", strings.Join(unknown, " && ")},
		{"shell", "bash"},
		// The step name reaches the script through env, never spliced
		// into it, so a workflow cannot inject shell through the input.
		{"env", mapping{{"STEP", "${{ inputs." + StepInput + " }}"}}},
		{"run", "echo \"::error title=gitship::unknown step '$STEP': want one of " + strings.Join(names, ", ") + "\"\nexit 2\n"},
	})

	doc := mapping{
		{"name", "gitship"},
		{"description", "Run a gitship CI step by name (" + strings.Join(names, ", ") + ")."},
		{"author", "gitship"},
		{"branding", branding},
		{"inputs", inputs},
	}
	if len(outOrder) > 0 {
		outputs := mapping{}
		for _, name := range outOrder {
			om := outs[name]
			var refs []string
			for _, st := range om.steps {
				refs = append(refs, "steps."+st+".outputs."+name)
			}
			outputs = append(outputs, pair{name, mapping{
				{"description", sentence(mergeDescriptions(om.steps, om.descs), "Set by: "+strings.Join(om.steps, ", "))},
				{"value", "${{ " + strings.Join(refs, " || ") + " }}"},
			}})
		}
		doc = append(doc, pair{"outputs", outputs})
	}
	doc = append(doc, pair{"runs", mapping{{"using", "composite"}, {"steps", run}}})
	return encodeYAML(doc)
}

// mergeDescriptions describes an input or output several steps share: the
// one description when they agree, else each step's, prefixed with the
// steps that use it ("lint, validate: write the report ... build: where the
// final image goes ..."), so no step's input or output is described by
// another's.
func mergeDescriptions(users, descs []string) string {
	var order []string
	by := map[string][]string{}
	for i, d := range descs {
		if _, ok := by[d]; !ok {
			order = append(order, d)
		}
		by[d] = append(by[d], users[i])
	}
	if len(order) == 1 {
		return order[0]
	}
	var parts []string
	for _, d := range order {
		parts = append(parts, strings.Join(by[d], ", ")+": "+d)
	}
	return sentence(parts...)
}
