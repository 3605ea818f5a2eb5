package main

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/wrapper"
)

// Fields of a Cloud Build config and of a build step (cloudbuild.yaml
// schema): an unknown key is a typo Cloud Build would reject.
var (
	buildKeys = []string{"steps", "timeout", "queueTtl", "logsBucket", "options", "substitutions", "tags",
		"serviceAccount", "secrets", "availableSecrets", "artifacts", "images"}
	stepKeys = []string{"name", "args", "env", "dir", "id", "waitFor", "entrypoint", "secretEnv", "volumes",
		"timeout", "script", "automapSubstitutions", "allowFailure", "allowExitCodes"}
	// Substitutions Cloud Build provides: for every build, for triggered
	// builds, and for GitHub pull-request triggers.
	builtinSubstitutions = []string{"PROJECT_ID", "BUILD_ID", "PROJECT_NUMBER", "LOCATION",
		"TRIGGER_NAME", "COMMIT_SHA", "REVISION_ID", "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME",
		"TAG_NAME", "REF_NAME", "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT",
		"_HEAD_BRANCH", "_BASE_BRANCH", "_HEAD_REPO_URL", "_PR_NUMBER"}
	// substitution matches $NAME and ${NAME}; $$ is a literal $.
	substitution = regexp.MustCompile(`\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$`)
	envEntry     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	userSubst    = regexp.MustCompile(`^_[A-Z0-9_]+$`)
	gitshipImage = regexp.MustCompile(`/gitship-([a-z0-9-]+):`)
	// gitshipBinary is $0 of a shell step that runs a step's binary.
	gitshipBinary = regexp.MustCompile(`^gitship-([a-z0-9-]+)$`)
)

// gitshipRun tells which gitship step a Cloud Build step runs, and with
// which arguments, in one of two forms:
//
//   - the step's image (name: .../gitship-<step>:TAG) with its flags as
//     args;
//   - a shell step that runs the step's binary itself, for when a flag's
//     value is only known at run time (an earlier step's output, read
//     from /workspace): entrypoint bash, args ['-c', SCRIPT,
//     'gitship-<step>', FLAG...]. bash -c gives SCRIPT the words after it
//     as $0 and "$@", so the script ends in exec BINARY ... "$$@" and the
//     flags stay in args, where they are checked like the first form's.
//
// label names what was matched, for messages.
func gitshipRun(st map[string]yaml.Node) (stepName, label string, args []string, err error) {
	args, err = stringList(st["args"], "args")
	if err != nil {
		return "", "", nil, err
	}
	name := st["name"].Value
	if m := gitshipImage.FindStringSubmatch(name); m != nil {
		return m[1], "image " + name, args, nil
	}
	entrypoint := st["entrypoint"].Value
	if (entrypoint != "bash" && entrypoint != "sh") || len(args) < 3 || args[0] != "-c" {
		return "", "", nil, nil
	}
	m := gitshipBinary.FindStringSubmatch(args[2])
	if m == nil {
		return "", "", nil, nil
	}
	if !strings.Contains(args[1], `"$$@"`) {
		return "", "", nil, fmt.Errorf("the %s -c script runs %s but never passes on its arguments, \"$$@\"", entrypoint, args[2])
	}
	return m[1], "binary " + args[2], args[3:], nil
}

type cloudBuild struct {
	Steps         []map[string]yaml.Node `yaml:"steps"`
	Substitutions map[string]string      `yaml:"substitutions"`
	Options       struct {
		SubstitutionOption   string `yaml:"substitutionOption"`
		AutomapSubstitutions bool   `yaml:"automapSubstitutions"`
	} `yaml:"options"`
}

// checkCloudBuild returns every problem of a Cloud Build config that runs
// gitship steps.
func checkCloudBuild(data []byte, steps []step.Step) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	var top map[string]yaml.Node
	if err := yaml.Unmarshal(data, &top); err != nil {
		return []error{fmt.Errorf("parse: %w", err)}
	}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if !slices.Contains(buildKeys, k) {
			bad("unknown top-level key %q", k)
		}
	}
	var cb cloudBuild
	if err := yaml.Unmarshal(data, &cb); err != nil {
		return []error{fmt.Errorf("parse: %w", err)}
	}
	if len(cb.Steps) == 0 {
		bad("no steps")
	}
	for k := range cb.Substitutions {
		if !userSubst.MatchString(k) {
			bad("substitution %q: user substitutions are _UPPER_CASE", k)
		}
	}
	// Every $ in a value is a substitution Cloud Build knows, or $$.
	// Comments are not values: Cloud Build substitutes in the parsed config.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []error{fmt.Errorf("parse: %w", err)}
	}
	for _, m := range substitution.FindAllStringSubmatch(strings.Join(scalars(&doc, nil), "\n"), -1) {
		name := m[1] + m[2]
		switch {
		case m[0] == "$$":
		case name == "":
			bad("lone $ (write $$ for a literal dollar)")
		case slices.Contains(builtinSubstitutions, name):
		case strings.HasPrefix(name, "_"):
			if _, ok := cb.Substitutions[name]; !ok {
				bad("substitution $%s is neither declared in substitutions nor built in", name)
			}
		default:
			bad("$%s is not a Cloud Build substitution (write $$%s for a shell variable)", name, name)
		}
	}
	gitshipSteps := 0
	for i, st := range cb.Steps {
		for _, k := range slices.Sorted(maps.Keys(st)) {
			if !slices.Contains(stepKeys, k) {
				bad("step %d: unknown key %q", i, k)
			}
		}
		nameNode, ok := st["name"]
		if !ok || nameNode.Kind != yaml.ScalarNode || nameNode.Value == "" {
			bad("step %d: no name (the image to run)", i)
			continue
		}
		stepName, label, args, err := gitshipRun(st)
		if err != nil {
			bad("step %d: %v", i, err)
		}
		env, err := stringList(st["env"], "env")
		if err != nil {
			bad("step %d: %v", i, err)
		}
		for _, e := range env {
			if !envEntry.MatchString(e) {
				bad("step %d: env %q is not KEY=value", i, e)
			}
		}
		if stepName == "" {
			continue
		}
		gitshipSteps++
		idx := slices.IndexFunc(steps, func(s step.Step) bool { return s.Name == stepName })
		if idx < 0 {
			bad("step %d: %s is no gitship step", i, label)
			continue
		}
		s := steps[idx]
		// Detection and context read these (shared/ci): without them the
		// step thinks it runs locally. automapSubstitutions sets every
		// substitution as an environment variable (the step's own setting
		// overrides the build's); without it the step's env must pass them.
		automap := cb.Options.AutomapSubstitutions
		if n, ok := st["automapSubstitutions"]; ok {
			automap = n.Value == "true"
		}
		for _, k := range wrapper.CloudBuildEnv {
			if !automap && !slices.Contains(env, k+"=$"+k) && !slices.Contains(env, k+"=${"+k+"}") {
				bad("step %d (%s): env lacks %s=$%s (or set options.automapSubstitutions: true)", i, s.Name, k, k)
			}
		}
		errs = append(errs, checkArgs(s, args)...)
		errs = append(errs, checkOCIOutputs(s, args)...)
	}
	if gitshipSteps == 0 {
		bad("no step runs a gitship image")
	}
	if cb.Options.SubstitutionOption != "ALLOW_LOOSE" {
		bad("options.substitutionOption = %q, want ALLOW_LOOSE: a build without a tag or PR must not be rejected", cb.Options.SubstitutionOption)
	}
	return errs
}

// checkArgs checks that every --flag is one of the step's, and that a pick
// list flag gets one of its choices.
func checkArgs(s step.Step, args []string) []error {
	var errs []error
	flags := map[string]cli.Flag{}
	for _, f := range s.AllFlags() {
		for _, n := range f.Names() {
			flags[n] = f
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f, ok := flags[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown flag %s", s.Name, a))
			continue
		}
		if _, isBool := f.(*cli.BoolFlag); !hasValue && !isBool && i+1 < len(args) {
			value, hasValue = args[i+1], true
			i++
		}
		if choices := s.Choices[f.Names()[0]]; hasValue && len(choices) > 0 && !slices.Contains(choices, value) {
			errs = append(errs, fmt.Errorf("%s: %s %q is not one of %v", s.Name, a, value, choices))
		}
	}
	return errs
}

// checkOCIOutputs checks that an OCI layout is written where later steps
// find it: each step is a fresh container and only /workspace survives.
func checkOCIOutputs(s step.Step, args []string) []error {
	var errs []error
	for i, a := range args {
		value, ok := strings.CutPrefix(a, "--output=")
		if !ok && a == "--output" && i+1 < len(args) {
			value, ok = args[i+1], true
		}
		dir, isOCI := strings.CutPrefix(value, "oci:")
		if !ok || !isOCI || !path.IsAbs(dir) {
			continue
		}
		if rel := strings.TrimPrefix(path.Clean(dir), "/workspace"); rel == path.Clean(dir) || (rel != "" && rel[0] != '/') {
			errs = append(errs, fmt.Errorf("%s: --output %s: only /workspace survives between steps", s.Name, value))
		}
	}
	return errs
}

// stringList reads a sequence of strings: Cloud Build rejects a number or a
// mapping where it wants a string (YAML reads 1 and true as such).
func stringList(n yaml.Node, what string) ([]string, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s (line %d) is not a list", what, n.Line)
	}
	var out []string
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
			return nil, fmt.Errorf("%s (line %d): %q is not a string: quote it", what, item.Line, item.Value)
		}
		out = append(out, item.Value)
	}
	return out, nil
}

// scalars collects the scalar values under n, mapping keys excluded.
func scalars(n *yaml.Node, out []string) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		return append(out, n.Value)
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			out = scalars(n.Content[i], out)
		}
	default:
		for _, c := range n.Content {
			out = scalars(c, out)
		}
	}
	return out
}

func TestCloudBuildConfigs(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(repoRoot, "cloudbuild", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no cloudbuild/*.yaml (err %v)", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range checkCloudBuild(data, Steps()) {
				t.Error(err)
			}
		})
	}
}

// TestCloudBuildRunsEveryStep: the example pipeline shows every step, as
// the GitHub and Azure quick starts do; a new step gets an entry there.
func TestCloudBuildRunsEveryStep(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "cloudbuild", "cloudbuild.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cb cloudBuild
	if err := yaml.Unmarshal(data, &cb); err != nil {
		t.Fatal(err)
	}
	ran := map[string]bool{}
	for _, st := range cb.Steps {
		if name, _, _, err := gitshipRun(st); err == nil && name != "" {
			ran[name] = true
		}
	}
	for _, s := range Steps() {
		if !ran[s.Name] {
			t.Errorf("cloudbuild/cloudbuild.yaml runs no gitship-%s step", s.Name)
		}
	}
}

// TestCloudBuildChecker shows the checker catches each mistake it is for.
func TestCloudBuildChecker(t *testing.T) {
	env := "    env: [" + envList() + "]\n"
	good := "substitutions:\n  _REPOSITORY_URL: ''\nsteps:\n  - name: 'ghcr.io/gitship/gitship-lint:v0'\n    args: ['--format', 'sarif']\n" + env +
		"options:\n  substitutionOption: ALLOW_LOOSE\n"
	if errs := checkCloudBuild([]byte(good), Steps()); len(errs) > 0 {
		t.Fatalf("the good config is rejected: %v", errs)
	}
	tests := []struct {
		name, from, to, want string
	}{
		{"unknown flag", "'--format'", "'--formats'", "unknown flag --formats"},
		{"bad choice", "'sarif'", "'sariff'", `"sariff" is not one of`},
		{"no BUILD_ID", "'BUILD_ID=$BUILD_ID', ", "", "env lacks BUILD_ID"},
		{"env not K=V", "'PROJECT_ID=$PROJECT_ID'", "'PROJECT_ID $PROJECT_ID'", "not KEY=value"},
		{"number arg", "'sarif'", "1", "not a string"},
		{"undeclared substitution", "'_REPOSITORY_URL=$_REPOSITORY_URL'", "'_REPOSITORY_URL=$_REPO_URL'", "$_REPO_URL is neither"},
		{"shell variable", "args: [", "args: ['$HOME', ", "$HOME is not a Cloud Build substitution"},
		{"step key typo", "    args:", "    arg:", `unknown key "arg"`},
		{"strict substitutions", "ALLOW_LOOSE", "MUST_MATCH", "want ALLOW_LOOSE"},
		{"not gitship", "gitship-lint", "kaniko", "no step runs a gitship image"},
		{"unknown step", "gitship-lint", "gitship-lnt", "is no gitship step"},
	}
	build := strings.NewReplacer("gitship-lint", "gitship-build", "'--format', 'sarif'", "'--output', 'oci:/workspace/.gitship/image'").Replace(good)
	if errs := checkCloudBuild([]byte(build), Steps()); len(errs) > 0 {
		t.Fatalf("the good build config is rejected: %v", errs)
	}
	for _, out := range []string{"oci:/tmp/image", "oci:/workspaces/image", "oci:/workspace/../tmp"} {
		cfg := strings.Replace(build, "oci:/workspace/.gitship/image", out, 1)
		var got []string
		for _, err := range checkCloudBuild([]byte(cfg), Steps()) {
			got = append(got, err.Error())
		}
		if !slices.ContainsFunc(got, func(e string) bool { return strings.Contains(e, "only /workspace survives") }) {
			t.Errorf("--output %s: errors %q, want one saying only /workspace survives", out, got)
		}
	}
	// automapSubstitutions instead of the env list: for the whole build, or
	// for the step; the step's false overrides the build's true.
	automap := strings.Replace(good, env, "", 1) + "  automapSubstitutions: true\n"
	if errs := checkCloudBuild([]byte(automap), Steps()); len(errs) > 0 {
		t.Fatalf("the good automapSubstitutions config is rejected: %v", errs)
	}
	stepAutomap := strings.Replace(good, env, "    automapSubstitutions: true\n", 1)
	if errs := checkCloudBuild([]byte(stepAutomap), Steps()); len(errs) > 0 {
		t.Fatalf("the good step automapSubstitutions config is rejected: %v", errs)
	}
	stepOff := strings.Replace(automap, "    args:", "    automapSubstitutions: false\n    args:", 1)
	if errs := fmt.Sprint(checkCloudBuild([]byte(stepOff), Steps())); !strings.Contains(errs, "env lacks BUILD_ID") {
		t.Errorf("a step that turns automapSubstitutions off and has no env: errors %s, want env lacks BUILD_ID", errs)
	}
	// The shell form: a script that runs a step's binary with the flags
	// that follow it in args.
	shell := "substitutions:\n  _REPOSITORY_URL: ''\nsteps:\n  - name: 'gcr.io/cloud-builders/docker'\n    entrypoint: bash\n" +
		"    args: ['-c', 'exec /workspace/.gitship/bin/gitship-gitops-pr --image \"$$image\" \"$$@\"', 'gitship-gitops-pr', '--environment', 'dev', '--provider', 'none']\n" +
		env + "options:\n  substitutionOption: ALLOW_LOOSE\n"
	if errs := checkCloudBuild([]byte(shell), Steps()); len(errs) > 0 {
		t.Fatalf("the good shell config is rejected: %v", errs)
	}
	tests = append(tests, []struct{ name, from, to, want string }{
		{"shell: unknown flag", "'--environment'", "'--env'", "unknown flag --env"},
		{"shell: bad choice", "'none'", "'gitlab'", `"gitlab" is not one of`},
		{"shell: arguments dropped", ` "$$@"'`, "'", "never passes on its arguments"},
		{"shell: unknown step", "'gitship-gitops-pr',", "'gitship-gitops',", "binary gitship-gitops is no gitship step"},
		{"shell: no BUILD_ID", "'BUILD_ID=$BUILD_ID', ", "", "env lacks BUILD_ID"},
		{"shell: not a step", "'gitship-gitops-pr',", "'deploy',", "no step runs a gitship image"},
	}...)
	configs := map[string]string{}
	for _, tt := range tests {
		configs[tt.name] = good
		if strings.HasPrefix(tt.name, "shell: ") {
			configs[tt.name] = shell
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := configs[tt.name]
			cfg := strings.Replace(good, tt.from, tt.to, 1)
			if cfg == good {
				t.Fatalf("%q is not in the config", tt.from)
			}
			var got []string
			for _, err := range checkCloudBuild([]byte(cfg), Steps()) {
				got = append(got, err.Error())
			}
			if !slices.ContainsFunc(got, func(e string) bool { return strings.Contains(e, tt.want) }) {
				t.Errorf("errors %q, want one containing %q", got, tt.want)
			}
		})
	}
}

func envList() string {
	var out []string
	for _, k := range wrapper.CloudBuildEnv {
		out = append(out, "'"+k+"=$"+k+"'")
	}
	return strings.Join(out, ", ")
}

// TestReferenceCloudBuildSnippets checks the Cloud Build example of every
// reference page the same way as cloudbuild/*.yaml.
func TestReferenceCloudBuildSnippets(t *testing.T) {
	for _, s := range Steps() {
		t.Run(s.Name, func(t *testing.T) {
			md, err := wrapper.Reference(s)
			if err != nil {
				t.Fatal(err)
			}
			_, rest, ok := strings.Cut(string(md), "### Cloud Build")
			if !ok {
				t.Fatal("no Cloud Build section")
			}
			_, rest, ok = strings.Cut(rest, "```yaml\n")
			snippet, _, closed := strings.Cut(rest, "```")
			if !ok || !closed {
				t.Fatal("no yaml block in the Cloud Build section")
			}
			for _, err := range checkCloudBuild([]byte(snippet), Steps()) {
				t.Errorf("%v in:\n%s", err, snippet)
			}
		})
	}
}
