package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/wrapper"
)

// The example pipelines in examples/pipelines/ use the generated tasks and
// actions; these tests keep them from drifting from what the wrappers
// declare: every input a pipeline passes is one the task or action has,
// every output it reads is one the step sets, and a reference from one
// job or stage to another names a job, stage and step that exist.

const examplesDir = "examples/pipelines"

var (
	azureTaskRef = regexp.MustCompile(`^(Gitship[A-Za-z0-9]+)@(\d+)$`)
	// $(step.output) in a job, dependencies.job.outputs['step.output'] in
	// a later job, stageDependencies.stage.job.outputs['step.output'] in a
	// later stage.
	azureMacro    = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_-]+)\)`)
	azureJobOut   = regexp.MustCompile(`(?:^|[^.A-Za-z])dependencies\.([A-Za-z0-9_]+)\.outputs\['([A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)'\]`)
	azureStageOut = regexp.MustCompile(`stageDependencies\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\.outputs\['([A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)'\]`)
	azureExpr     = regexp.MustCompile(`\$\[|\$\(|\$\{\{`)

	githubUses    = regexp.MustCompile(`^gitship/gitship(?:/steps/([a-z0-9-]+))?@`)
	githubStepOut = regexp.MustCompile(`steps\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\.([A-Za-z0-9_-]+)`)
	githubNeeds   = regexp.MustCompile(`needs\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\.([A-Za-z0-9_-]+)`)
	githubExpr    = regexp.MustCompile(`\$\{\{`)
)

// azureTaskDecl is what a pipeline may use of a task.json.
type azureTaskDecl struct {
	Name    string `json:"name"`
	Version struct {
		Major int `json:"Major"`
	} `json:"version"`
	Inputs          []azureInputDecl `json:"inputs"`
	OutputVariables []struct {
		Name string `json:"name"`
	} `json:"outputVariables"`
}

type azureInputDecl struct {
	Name    string            `json:"name"`
	Type    string            `json:"type"`
	Options map[string]string `json:"options"`
}

// hasOutput reports whether the task sets the output variable.
func (d azureTaskDecl) hasOutput(name string) bool {
	for _, o := range d.OutputVariables {
		if o.Name == name {
			return true
		}
	}
	return false
}

// azureTasks reads the committed task.json of every task, by task name.
func azureTasks(t *testing.T) map[string]azureTaskDecl {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "azure-pipelines-task", "*", "task.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no azure-pipelines-task/*/task.json (err %v)", err)
	}
	tasks := map[string]azureTaskDecl{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d azureTaskDecl
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		tasks[d.Name] = d
	}
	return tasks
}

// githubActionDecl is what a workflow may use of an action.yml.
type githubActionDecl struct {
	Inputs  map[string]any `yaml:"inputs"`
	Outputs map[string]any `yaml:"outputs"`
}

// githubActions reads the committed action.yml of every step, by step name.
func githubActions(t *testing.T) map[string]githubActionDecl {
	t.Helper()
	actions := map[string]githubActionDecl{}
	for _, s := range Steps() {
		data, err := os.ReadFile(filepath.Join(repoRoot, "steps", s.Name, "action.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var d githubActionDecl
		if err := yaml.Unmarshal(data, &d); err != nil {
			t.Fatalf("steps/%s/action.yml: %v", s.Name, err)
		}
		actions[s.Name] = d
	}
	return actions
}

// azureStep is a gitship task in a pipeline, where it is.
type azureStep struct{ stage, job, name, task string }

// checkAzurePipeline returns every way the pipeline strays from the tasks.
func checkAzurePipeline(data []byte, tasks map[string]azureTaskDecl) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{fmt.Errorf("parse: %w", err)}
	}
	var steps []azureStep
	stageDeps := map[string][]string{} // stage → dependsOn
	jobsOf := map[string][]string{}    // stage → jobs
	var walk func(n any, stage, job string)
	walk = func(n any, stage, job string) {
		switch n := n.(type) {
		case []any:
			for _, c := range n {
				walk(c, stage, job)
			}
		case map[string]any:
			if s, ok := n["stage"].(string); ok {
				stage = s
				stageDeps[s] = stringsOf(n["dependsOn"])
			}
			for _, k := range []string{"job", "deployment"} {
				if j, ok := n[k].(string); ok {
					job = j
					jobsOf[stage] = append(jobsOf[stage], j)
				}
			}
			if ref, ok := n["task"].(string); ok {
				if m := azureTaskRef.FindStringSubmatch(ref); m != nil {
					name, _ := n["name"].(string)
					steps = append(steps, azureStep{stage, job, name, m[1]})
					errs = append(errs, checkAzureTask(n, m[1], m[2], tasks)...)
				}
			}
			for _, k := range slices.Sorted(maps.Keys(n)) {
				walk(n[k], stage, job)
			}
		}
	}
	walk(doc, "", "")
	if len(steps) == 0 {
		bad("no gitship task")
	}

	// References to outputs, checked against the step they name.
	output := func(s azureStep, out string) {
		if !tasks[s.task].hasOutput(out) {
			bad("%s.%s: %s sets no output %q", s.name, out, s.task, out)
		}
	}
	find := func(stage, job, name string) (azureStep, bool) {
		i := slices.IndexFunc(steps, func(s azureStep) bool {
			return s.name == name && (job == "" || s.job == job) && (stage == "" || s.stage == stage)
		})
		if i < 0 {
			return azureStep{}, false
		}
		return steps[i], true
	}
	var text []string
	var collect func(n any, stage, job string)
	collect = func(n any, stage, job string) {
		switch n := n.(type) {
		case string:
			text = append(text, stage+"\x00"+job+"\x00"+n)
		case []any:
			for _, c := range n {
				collect(c, stage, job)
			}
		case map[string]any:
			if s, ok := n["stage"].(string); ok {
				stage = s
			}
			for _, k := range []string{"job", "deployment"} {
				if j, ok := n[k].(string); ok {
					job = j
				}
			}
			for _, v := range n {
				collect(v, stage, job)
			}
		}
	}
	collect(doc, "", "")
	for _, entry := range text {
		parts := strings.SplitN(entry, "\x00", 3)
		stage, job, s := parts[0], parts[1], parts[2]
		for _, m := range azureStageOut.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(stageDeps[stage], m[1]) {
				bad("stage %s reads stageDependencies.%s but does not depend on it (dependsOn %v)", stage, m[1], stageDeps[stage])
			}
			if !slices.Contains(jobsOf[m[1]], m[2]) {
				bad("stageDependencies.%s.%s: stage %s has no job %s (jobs %v)", m[1], m[2], m[1], m[2], jobsOf[m[1]])
				continue
			}
			if st, ok := find(m[1], m[2], m[3]); ok {
				output(st, m[4])
			} else {
				bad("stageDependencies.%s.%s.outputs['%s.%s']: no gitship task named %s there", m[1], m[2], m[3], m[4], m[3])
			}
		}
		for _, m := range azureJobOut.FindAllStringSubmatch(s, -1) {
			if st, ok := find(stage, m[1], m[2]); ok {
				output(st, m[3])
			} else {
				bad("dependencies.%s.outputs['%s.%s']: no gitship task named %s in job %s", m[1], m[2], m[3], m[2], m[1])
			}
		}
		for _, m := range azureMacro.FindAllStringSubmatch(s, -1) {
			// $(Build.Reason) and the like are variables; only a name a
			// gitship task has in this job is a step's output.
			if st, ok := find(stage, job, m[1]); ok {
				output(st, m[2])
			}
		}
	}
	return errs
}

// checkAzureTask checks one task step's version and inputs.
func checkAzureTask(n map[string]any, name, major string, tasks map[string]azureTaskDecl) []error {
	var errs []error
	d, ok := tasks[name]
	if !ok {
		return []error{fmt.Errorf("task %s@%s: no such gitship task (have %v)", name, major, slices.Sorted(maps.Keys(tasks)))}
	}
	if fmt.Sprint(d.Version.Major) != major {
		errs = append(errs, fmt.Errorf("task %s@%s: the task is version %d", name, major, d.Version.Major))
	}
	inputs, _ := n["inputs"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		i := slices.IndexFunc(d.Inputs, func(in azureInputDecl) bool { return in.Name == k })
		if i < 0 {
			errs = append(errs, fmt.Errorf("task %s: no input %q", name, k))
			continue
		}
		in := d.Inputs[i]
		v := fmt.Sprint(inputs[k])
		if azureExpr.MatchString(v) {
			continue // known at run time only
		}
		switch {
		case in.Type == "boolean" && v != "true" && v != "false":
			errs = append(errs, fmt.Errorf("task %s: input %s = %q, want true or false", name, k, v))
		case in.Type == "pickList":
			if _, ok := in.Options[v]; !ok {
				errs = append(errs, fmt.Errorf("task %s: input %s = %q is not one of %v", name, k, v, slices.Sorted(maps.Keys(in.Options))))
			}
		}
	}
	return errs
}

// checkGitHubWorkflow returns every way the workflow strays from the
// actions.
func checkGitHubWorkflow(data []byte, actions map[string]githubActionDecl) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	var wf struct {
		Jobs map[string]struct {
			Needs   any               `yaml:"needs"`
			Outputs map[string]string `yaml:"outputs"`
			Steps   []struct {
				ID   string         `yaml:"id"`
				Uses string         `yaml:"uses"`
				With map[string]any `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		return []error{fmt.Errorf("parse: %w", err)}
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return []error{fmt.Errorf("parse: %w", err)}
	}
	rawJobs, _ := raw["jobs"].(map[string]any)
	uses := 0
	for _, jobName := range slices.Sorted(maps.Keys(wf.Jobs)) {
		job := wf.Jobs[jobName]
		ids := map[string]string{} // step id → gitship step
		for i, st := range job.Steps {
			m := githubUses.FindStringSubmatch(st.Uses)
			if m == nil {
				continue
			}
			uses++
			stepName, root := m[1], m[1] == ""
			if root {
				stepName = fmt.Sprint(st.With["step"])
				if st.With["step"] == nil {
					bad("job %s step %d: %s without step:", jobName, i, st.Uses)
					continue
				}
			}
			a, ok := actions[stepName]
			if !ok {
				bad("job %s step %d: no gitship step %q", jobName, i, stepName)
				continue
			}
			if st.ID != "" {
				ids[st.ID] = stepName
			}
			for _, k := range slices.Sorted(maps.Keys(st.With)) {
				if root && k == "step" {
					continue
				}
				if _, ok := a.Inputs[k]; !ok {
					bad("job %s: %s has no input %q", jobName, stepName, k)
				}
			}
			errs = append(errs, checkGitHubValues(jobName, stepName, st.With)...)
		}
		needs := stringsOf(job.Needs)
		var text []string
		text = scalarsOf(rawJobs[jobName], text)
		for _, s := range text {
			for _, m := range githubStepOut.FindAllStringSubmatch(s, -1) {
				stepName, ok := ids[m[1]]
				if !ok {
					continue // another action's step
				}
				if _, ok := actions[stepName].Outputs[m[2]]; !ok {
					bad("job %s: steps.%s.outputs.%s: %s sets no output %q", jobName, m[1], m[2], stepName, m[2])
				}
			}
			for _, m := range githubNeeds.FindAllStringSubmatch(s, -1) {
				if !slices.Contains(needs, m[1]) {
					bad("job %s reads needs.%s but does not need it (needs %v)", jobName, m[1], needs)
				}
				other, ok := wf.Jobs[m[1]]
				if !ok {
					bad("job %s: needs.%s: no such job", jobName, m[1])
					continue
				}
				if _, ok := other.Outputs[m[2]]; !ok {
					bad("job %s: needs.%s.outputs.%s: job %s has no output %q", jobName, m[1], m[2], m[1], m[2])
				}
			}
		}
	}
	if uses == 0 {
		bad("no gitship action")
	}
	return errs
}

// checkGitHubValues checks the literal values of a step's choice inputs.
func checkGitHubValues(job, stepName string, with map[string]any) []error {
	var errs []error
	for _, s := range Steps() {
		if s.Name != stepName {
			continue
		}
		for k, choices := range s.Choices {
			v, ok := with[k]
			if !ok || githubExpr.MatchString(fmt.Sprint(v)) {
				continue
			}
			if !slices.Contains(choices, fmt.Sprint(v)) {
				errs = append(errs, fmt.Errorf("job %s: %s %s = %q is not one of %v", job, stepName, k, v, choices))
			}
		}
	}
	return errs
}

// stringsOf reads a string or a list of strings (dependsOn, needs).
func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// scalarsOf collects every string value under v.
func scalarsOf(v any, out []string) []string {
	switch v := v.(type) {
	case string:
		return append(out, v)
	case []any:
		for _, x := range v {
			out = scalarsOf(x, out)
		}
	case map[string]any:
		for _, x := range v {
			out = scalarsOf(x, out)
		}
	}
	return out
}

// examplePipelines lists examples/pipelines/*.yml by kind: an Azure
// pipeline has stages, jobs or steps at the top; a GitHub workflow has on
// and jobs.
func examplePipelines(t *testing.T) (azure, github []string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, filepath.FromSlash(examplesDir), "*.y*ml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no %s/*.yml (err %v)", examplesDir, err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]any
		if err := yaml.Unmarshal(data, &top); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		_, hasOn := top["on"]
		switch {
		case hasOn && top["jobs"] != nil:
			github = append(github, p)
		case top["stages"] != nil || top["jobs"] != nil || top["steps"] != nil:
			azure = append(azure, p)
		default:
			t.Errorf("%s: neither a GitHub workflow (on, jobs) nor an Azure pipeline (stages, jobs, steps)", p)
		}
	}
	return azure, github
}

func TestExamplePipelines(t *testing.T) {
	azure, github := examplePipelines(t)
	if len(azure) == 0 || len(github) == 0 {
		t.Fatalf("want an Azure pipeline and a GitHub workflow in %s, have %v and %v", examplesDir, azure, github)
	}
	tasks, actions := azureTasks(t), githubActions(t)
	for _, p := range azure {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range checkAzurePipeline(data, tasks) {
				t.Error(err)
			}
		})
	}
	for _, p := range github {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range checkGitHubWorkflow(data, actions) {
				t.Error(err)
			}
		})
	}
}

// TestExamplePipelinesRunEveryStep: between them, the examples show every
// step on both systems.
func TestExamplePipelinesRunEveryStep(t *testing.T) {
	azure, github := examplePipelines(t)
	var text strings.Builder
	for _, p := range append(azure, github...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(data)
	}
	for _, s := range Steps() {
		task := "task: " + wrapper.TaskName(s) + "@"
		action := "gitship/gitship/steps/" + s.Name + "@"
		root := "step: " + s.Name + "\n"
		if !strings.Contains(text.String(), task) {
			t.Errorf("no example pipeline runs %s", strings.TrimSuffix(task, "@"))
		}
		if !strings.Contains(text.String(), action) && !strings.Contains(text.String(), root) {
			t.Errorf("no example workflow uses %s or step: %s", strings.TrimSuffix(action, "@"), s.Name)
		}
	}
}

// TestExampleCheckers shows each checker catches the mistakes it is for.
func TestExampleCheckers(t *testing.T) {
	tasks, actions := azureTasks(t), githubActions(t)
	azure := `stages:
  - stage: Build
    jobs:
      - job: build
        steps:
          - task: GitshipPublish@1
            name: publish
            inputs: {image: 'oci:dir', repository: r}
  - stage: Dev
    dependsOn: Build
    jobs:
      - deployment: gitops
        variables:
          img: $[ stageDependencies.Build.build.outputs['publish.image'] ]
        strategy:
          runOnce:
            deploy:
              steps:
                - task: GitshipGitopsPr@1
                  name: gitopsPr
                  inputs: {image: $(img), direct: true, provider: none}
                - bash: echo $(gitopsPr.prUrl) $(Build.Reason)
`
	github := `on: push
jobs:
  build:
    outputs:
      image: ${{ steps.publish.outputs.image }}
    steps:
      - uses: gitship/gitship/steps/publish@v0
        id: publish
        with: {image: 'oci:dir', repository: r}
  dev:
    needs: build
    steps:
      - uses: gitship/gitship@v0
        id: gitops
        with: {step: gitops-pr, image: '${{ needs.build.outputs.image }}', provider: none}
      - run: echo ${{ steps.gitops.outputs.pr-url }}
`
	if errs := checkAzurePipeline([]byte(azure), tasks); len(errs) > 0 {
		t.Fatalf("the good pipeline is rejected: %v", errs)
	}
	if errs := checkGitHubWorkflow([]byte(github), actions); len(errs) > 0 {
		t.Fatalf("the good workflow is rejected: %v", errs)
	}
	tests := []struct {
		name, doc, from, to, want string
	}{
		{"azure: unknown input", azure, "direct:", "directly:", `no input "directly"`},
		{"azure: kebab-case input", azure, "direct:", "wait-merged:", `no input "wait-merged"`},
		{"azure: bad choice", azure, "provider: none", "provider: gitlab", `"gitlab" is not one of`},
		{"azure: bad boolean", azure, "direct: true", "direct: yes", "want true or false"},
		{"azure: unknown task", azure, "GitshipGitopsPr@1", "GitshipGitOpsPR@1", "no such gitship task"},
		{"azure: wrong version", azure, "GitshipGitopsPr@1", "GitshipGitopsPr@2", "the task is version 1"},
		{"azure: unknown output", azure, "gitopsPr.prUrl", "gitopsPr.pr-url", "sets no output"},
		{"azure: kebab-case output", azure, "outputs['publish.image']", "outputs['publish.imageId']", `sets no output "imageId"`},
		{"azure: wrong stage", azure, "stageDependencies.Build.", "stageDependencies.Built.", "does not depend on it"},
		{"azure: wrong job", azure, "Build.build.outputs", "Build.Build.outputs", "has no job Build"},
		{"azure: wrong step", azure, "outputs['publish.", "outputs['push.", "no gitship task named push"},
		{"github: unknown input", github, "repository: r", "repo: r", `has no input "repo"`},
		{"github: camelCase input", github, "step: gitops-pr, image", "step: gitops-pr, waitMerged: 1h, image", `has no input "waitMerged"`},
		{"github: bad choice", github, "provider: none", "provider: gitlab", `"gitlab" is not one of`},
		{"github: unknown step", github, "step: gitops-pr", "step: gitops", `no gitship step "gitops"`},
		{"github: unknown output", github, "outputs.pr-url", "outputs.prUrl", "sets no output"},
		{"github: job output", github, "needs.build.outputs.image", "needs.build.outputs.digest", "has no output"},
		{"github: not needed", github, "needs: build", "needs: []", "does not need it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(tt.doc, tt.from, tt.to, 1)
			if doc == tt.doc {
				t.Fatalf("%q is not in the document", tt.from)
			}
			var errs []error
			if tt.doc == azure {
				errs = checkAzurePipeline([]byte(doc), tasks)
			} else {
				errs = checkGitHubWorkflow([]byte(doc), actions)
			}
			var got []string
			for _, err := range errs {
				got = append(got, err.Error())
			}
			if !slices.ContainsFunc(got, func(e string) bool { return strings.Contains(e, tt.want) }) {
				t.Errorf("errors %q, want one containing %q", got, tt.want)
			}
		})
	}
}
