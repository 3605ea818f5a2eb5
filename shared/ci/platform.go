package ci

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitship/gitship/shared/finding"
)

// Env is the process environment as a map, so tests can pass their own.
type Env map[string]string

// EnvFromOS reads the process environment.
func EnvFromOS() Env {
	env := Env{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// Platform is the CI system a step runs on.
type Platform interface {
	// Name is "github", "azure", "cloudbuild" or "local".
	Name() string
	// Context describes the run: commit, branch, pull request, run URL.
	Context() Context
	// Annotate prints a finding so the CI shows it on the file and line.
	Annotate(w io.Writer, f finding.Finding)
	// Mask asks the CI to hide a secret in its logs. It is the only place a
	// secret is written, in the command the CI consumes.
	Mask(w io.Writer, secret string)
	// Group and EndGroup fold a long phase of the log.
	Group(w io.Writer, title string)
	EndGroup(w io.Writer)
	// SetOutput records a named output for later steps.
	SetOutput(w io.Writer, o Output) error
	// Summary publishes a Markdown summary of the step.
	Summary(w io.Writer, markdown string) error
	// Close writes outputs that are kept until the end (the JSON file).
	Close() error
}

// Output is a named result of a step.
type Output struct {
	Name   string
	Value  string
	Secret bool
}

// Options say where a step keeps what it writes outside the log.
type Options struct {
	// Step names the step ("lint"): default file names derive from it.
	Step string
	// Dir is the working directory the repository is looked up from;
	// empty means the current directory.
	Dir string
	// OutputsFile overrides where outputs are written as JSON. By default
	// Cloud Build and local runs write $WORKSPACE/.gitship/<step>.json and
	// the other platforms use their own mechanism only.
	OutputsFile string
}

// Kind names the platform the environment says the step runs on:
// "github" when GITHUB_ACTIONS=true, "azure" when TF_BUILD=True,
// "cloudbuild" when BUILD_ID and PROJECT_ID are set (the pipelines pass
// them in env), otherwise "local". It is what Detect picks, known before
// the step's flags are read, so the log is guarded from its first line.
func Kind(env Env) string {
	switch {
	case strings.EqualFold(env["GITHUB_ACTIONS"], "true"):
		return "github"
	case strings.EqualFold(env["TF_BUILD"], "true"):
		return "azure"
	case env["BUILD_ID"] != "" && env["PROJECT_ID"] != "":
		return "cloudbuild"
	default:
		return "local"
	}
}

// Detect picks the platform from the environment (see Kind).
func Detect(env Env, opts Options) (Platform, error) {
	dir := opts.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
		dir = wd
	}
	var p Platform
	switch Kind(env) {
	case "github":
		ctx := fillFromGit(githubContext(env), dir)
		p = &github{run{env, ctx, opts.Step, newJSONOutputs(opts.OutputsFile)}}
	case "azure":
		ctx := fillFromGit(azureContext(env), dir)
		p = &azure{run{env, ctx, opts.Step, newJSONOutputs(opts.OutputsFile)}}
	case "cloudbuild":
		ctx := fillFromGit(cloudBuildContext(env), dir)
		p = &plain{"cloudbuild", run{env, ctx, opts.Step, cloudBuildOutputs(defaultOutputs(opts, ctx), env)}}
	default:
		ctx := fillFromGit(Context{Platform: "local"}, dir)
		p = &plain{"local", run{env, ctx, opts.Step, newJSONOutputs(defaultOutputs(opts, ctx))}}
	}
	return p, nil
}

// run is what every Platform keeps of the run: the environment it was
// detected from, the Context, the step's name and its outputs, written
// when the Platform is closed.
type run struct {
	env     Env
	ctx     Context
	step    string
	outputs *jsonOutputs
}

func (r *run) Context() Context { return r.ctx }
func (r *run) Close() error     { return r.outputs.write() }

func defaultOutputs(opts Options, ctx Context) string {
	if opts.OutputsFile != "" {
		return opts.OutputsFile
	}
	return filepath.Join(ctx.Workspace, ".gitship", opts.Step+".json")
}
