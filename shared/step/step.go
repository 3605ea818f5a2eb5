package step

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/redact"
)

// Version is the gitship release, set at build time with
// -ldflags "-X github.com/gitship/gitship/shared/step.Version=1.2.3".
var Version = "dev"

// Step declares one gitship step: its inputs, outputs and what it does.
// The same declaration drives the binary, the GitHub action, the Azure task
// and the reference docs, so they cannot drift.
type Step struct {
	// Name is the step's name; the binary is gitship-<Name>.
	Name string
	// Description is one line, used in --help and the wrappers.
	Description string
	// Flags are the step's inputs. Bind them to a settings struct with
	// Destination; the framework adds --outputs-file.
	Flags []cli.Flag
	// Secrets names flags whose values are masked and redacted.
	Secrets []string
	// LineLists names list flags whose items hold commas themselves
	// (type=registry,ref=...,mode=max): from the environment and the
	// wrappers they are split by lines only.
	LineLists []string
	// Choices restricts a flag to a set of values (a pickList on Azure).
	Choices map[string][]string
	// Examples are inputs a typical use sets, with example values: the
	// "Use it" snippets of the docs show them, so a copied snippet runs.
	// A secret listed here is shown passed from the CI's secret store.
	Examples map[string]string
	// Outputs documents what the step sets.
	Outputs []OutputSpec
	// Action runs the step once its inputs are parsed and checked.
	Action func(ctx context.Context, r *Run) error
}

// OutputSpec documents one output.
type OutputSpec struct {
	Name        string
	Description string
}

// Run is what a step's Action works with.
type Run struct {
	Platform ci.Platform
	// Stdout and Stderr mask every secret before it is printed.
	Stdout, Stderr io.Writer
	Redactor       *redact.Redactor
}

// Context is the CI context of the run.
func (r *Run) Context() ci.Context { return r.Platform.Context() }

// AddSecret makes v a secret from now on, as the secret inputs are: redacted
// from every line and output, and masked by the CI system. For values a step
// learns while it runs, such as a build secret read from a file.
func (r *Run) AddSecret(v string) {
	if v == "" || slices.Contains(r.Redactor.Secrets(), v) {
		return
	}
	r.Redactor.Add(v)
	if m, ok := r.Stdout.(interface{ Mask(string) }); ok {
		m.Mask(v)
	}
}

// SetOutput records an output, redacted (a secret output is set by the
// step with SetSecretOutput instead).
func (r *Run) SetOutput(name, value string) error {
	return r.Platform.SetOutput(r.Stdout, ci.Output{Name: name, Value: r.Redactor.String(value)})
}

// Group runs fn inside a folded log group.
func (r *Run) Group(title string, fn func() error) error {
	r.Platform.Group(r.Stdout, title)
	defer r.Platform.EndGroup(r.Stdout)
	return fn()
}

// ForReport splits a run for a step that writes a report: the report goes
// to stdout when there is no --output file, and then a machine-readable
// report must stay parseable, so the returned Run logs everything else
// (progress, annotations, CI commands) to stderr, where GitHub and Azure
// read commands too.
func (r *Run) ForReport(format, output string) (report io.Writer, log *Run) {
	if output != "" || format == "text" {
		return r.Stdout, r
	}
	logged := *r
	logged.Stdout = r.Stderr
	return r.Stdout, &logged
}

// Summary publishes a Markdown summary, redacted.
func (r *Run) Summary(markdown string) error {
	return r.Platform.Summary(r.Stdout, r.Redactor.String(markdown))
}

// Main runs the step as a process: flags from os.Args, inputs from the
// environment, and exits with the step's exit code. Only main exits.
func Main(s Step) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Execute(ctx, s, os.Args, ci.EnvFromOS(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// OutputsFileFlag is added to every step.
const OutputsFileFlag = "outputs-file"

// CommonFlags are the flags every step has.
func CommonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:  OutputsFileFlag,
			Usage: "write outputs as JSON to this file (default on Cloud Build and locally: $WORKSPACE/.gitship/<step>.json)",
		},
	}
}

// AllFlags is the step's flags followed by the common ones.
func (s Step) AllFlags() []cli.Flag { return append(slices.Clone(s.Flags), CommonFlags()...) }

// Execute runs the step with the given arguments and environment and
// returns its exit code. It is Main without the process around it, for
// tests.
func Execute(ctx context.Context, s Step, args []string, env ci.Env, stdout, stderr io.Writer) int {
	flags := s.AllFlags()
	given := givenFlags(flags, args[1:])
	full := append([]string{args[0]}, argsFromEnv(flags, given, env, s.LineLists)...)
	full = append(full, args[1:]...)

	// Every secret is known before the first line is printed: the secret
	// inputs, and any credential in a URL-valued input.
	red := &redact.Redactor{}
	red.Add(secretValues(s.Secrets, full)...)
	red.Add(urlCredentials(full)...)
	kind := ci.Kind(env)
	out, errOut := ci.NewWriter(stdout, kind, red.String), ci.NewWriter(stderr, kind, red.String)
	defer out.Flush()
	defer errOut.Flush()
	// Masked before anything else is printed, usage errors and help too.
	for _, v := range red.Secrets() {
		out.Mask(v) // the one command that carries v: the CI hides it
	}

	// The annotations the step printed: a failed check that printed none
	// goes to the error channel, or the run page would not say why.
	var annotations *atomic.Int64
	app := &cli.App{
		Name:                      "gitship-" + s.Name,
		Usage:                     s.Description,
		HelpName:                  "gitship-" + s.Name,
		Version:                   Version,
		Flags:                     documentEnv(flags),
		Writer:                    out,
		ErrWriter:                 errOut,
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &UsageError{Err: err}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return Usagef("unexpected argument %q: every input is a flag (see --help)", c.Args().First())
			}
			if err := checkChoices(c, s.Choices); err != nil {
				return err
			}
			p, err := ci.Detect(env, ci.Options{Step: s.Name, OutputsFile: c.String(OutputsFileFlag)})
			if err != nil {
				return err
			}
			// A token in the origin remote, known only now.
			masked := red.Secrets()
			red.Add(p.Context().Credentials()...)
			for _, v := range red.Secrets() {
				if !slices.Contains(masked, v) {
					out.Mask(v)
				}
			}
			counted := &annotationCounter{Platform: p}
			annotations = &counted.n
			run := &Run{Platform: counted, Stdout: out, Stderr: errOut, Redactor: red}
			err = s.Action(c.Context, run)
			if cerr := p.Close(); cerr != nil && err == nil {
				err = cerr
			}
			return err
		},
	}
	err := app.RunContext(ctx, full)
	if err == nil {
		return ExitOK
	}
	code := ExitCode(err)
	msg := err.Error()
	if code == ExitUsage {
		msg += fmt.Sprintf(" (run gitship-%s --help for usage)", s.Name)
	}
	switch {
	case errors.Is(err, ErrCheckFailed) && annotations != nil && annotations.Load() > 0:
		// The findings were annotated already: this line only sums up.
		fmt.Fprintf(errOut, "gitship-%s: %s\n", s.Name, msg)
	case errors.Is(err, ErrCheckFailed):
		// A failed check with nothing annotated (a registry refusing
		// the credentials, a tag that would move, a push the GitOps
		// server refused): this line is the only place it is said.
		errOut.Fail(fmt.Sprintf("gitship-%s: %s", s.Name, msg))
	default:
		// On GitHub and Azure an error command, so the run page says why.
		errOut.Fail(fmt.Sprintf("gitship-%s: error: %s", s.Name, msg))
	}
	return code
}

func checkChoices(c *cli.Context, choices map[string][]string) error {
	for name, allowed := range choices {
		if !c.IsSet(name) {
			continue
		}
		v := c.String(name)
		if !slices.Contains(allowed, v) {
			return Usagef("invalid value %q for input %s: want one of %s", v, name, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// urlCredentials finds the credentials in every argument that is, or
// ends with, a URL-like value (--gitops-repo=https://x:TOKEN@host/...,
// --repository, --promote-from...): see redact.URLCredentials.
func urlCredentials(args []string) []string {
	var vals []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			_, v, ok := strings.Cut(a, "=")
			if !ok {
				continue
			}
			a = v
		}
		vals = append(vals, redact.URLCredentials(a)...)
	}
	return vals
}

// secretValues finds the values of secret flags in the arguments.
func secretValues(secret []string, args []string) []string {
	var vals []string
	for i, a := range args {
		for _, name := range secret {
			switch {
			case a == "--"+name || a == "-"+name:
				if i+1 < len(args) {
					vals = append(vals, args[i+1])
				}
			case strings.HasPrefix(a, "--"+name+"="):
				vals = append(vals, strings.TrimPrefix(a, "--"+name+"="))
			case strings.HasPrefix(a, "-"+name+"="):
				vals = append(vals, strings.TrimPrefix(a, "-"+name+"="))
			}
		}
	}
	return vals
}

// documentEnv shows in --help which variables set each flag. They are not
// handed to urfave/cli as EnvVars: argsFromEnv reads them, so empty values
// and list splitting behave the same on every platform.
func documentEnv(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, 0, len(flags))
	for _, f := range flags {
		env := " [$" + strings.Join(EnvNames(f.Names()[0]), ", $") + "]"
		switch ff := f.(type) {
		case *cli.StringFlag:
			c := *ff
			c.Usage += env
			out = append(out, &c)
		case *cli.StringSliceFlag:
			c := *ff
			c.Usage += env
			out = append(out, &c)
		case *cli.BoolFlag:
			c := *ff
			c.Usage += env
			out = append(out, &c)
		case *cli.IntFlag:
			c := *ff
			c.Usage += env
			out = append(out, &c)
		case *cli.DurationFlag:
			c := *ff
			c.Usage += env
			out = append(out, &c)
		default:
			out = append(out, f)
		}
	}
	return out
}

// annotationCounter counts the findings a step annotated.
type annotationCounter struct {
	ci.Platform
	n atomic.Int64
}

func (a *annotationCounter) Annotate(w io.Writer, f finding.Finding) {
	a.n.Add(1)
	a.Platform.Annotate(w, f)
}
