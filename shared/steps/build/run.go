package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitship/gitship/shared/buildkit"
	"github.com/gitship/gitship/shared/engine"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/step"
)

// cleanupTimeout bounds the removal of what the step created; it runs on a
// context of its own, so a cancelled run still cleans up.
const cleanupTimeout = 2 * time.Minute

// Run builds and tests what the settings name and reports on r's platform.
// Failing tests return a *step.ExitError with the test command's exit code;
// bad input a step.UsageError.
func Run(ctx context.Context, s Settings, r *step.Run) (err error) {
	c := r.Context()
	in, err := resolve(s, c, os.LookupEnv)
	if err != nil {
		return err
	}
	b := &builder{s: s, in: in, r: r}
	b.maskSecrets()
	if err := b.check(); err != nil {
		return err
	}
	if b.needsEngine() {
		var opts []engine.Option
		if s.Cache {
			opts = append(opts, engine.KeepBuildCache())
		}
		eng, err := engine.Connect(ctx, s.DockerHost, opts...)
		if err != nil {
			return err
		}
		defer eng.Close()
		b.eng = eng
		if s.Keep {
			defer fmt.Fprintln(r.Stdout, "--keep: the containers and images this step created are left in the engine")
		} else {
			defer func() {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
				defer cancel()
				if cerr := eng.Cleanup(cctx); cerr != nil {
					fmt.Fprintf(r.Stderr, "warning: clean up: %v\n", cerr)
				}
			}()
		}
		fmt.Fprintf(r.Stdout, "Docker Engine at %s (API %s)\n", eng.Host(), eng.APIVersion())
	}
	if err := b.connectBuilder(ctx); err != nil {
		return err
	}
	if b.bk != nil {
		defer b.bk.Close()
	}

	defer func() {
		// Also after failed tests: their summary is what a reviewer reads.
		if b.md.Len() > 0 {
			if serr := r.Summary(b.md.String()); serr != nil && err == nil {
				err = serr
			}
		}
	}()
	if s.TestTarget != "" {
		if err := b.test(ctx); err != nil {
			return err
		}
	}
	return b.final(ctx)
}

// builder carries one run's state between its phases.
type builder struct {
	s   Settings
	in  inputs
	r   *step.Run
	eng *engine.Engine    // nil when the run needs no engine
	bk  *buildkit.Builder // nil: the engine's classic builder
	// enginePlatform is the engine's platform, where a standalone
	// builder's test stage must run; "" for the engine's own builders.
	enginePlatform string
	md             strings.Builder // the summary, published once at the end
	rec            buildRecord     // the final build's, for provenance
}

func (b *builder) buildOptions(target string) engine.BuildOptions {
	return engine.BuildOptions{
		ContextDir: b.s.Context,
		Dockerfile: b.s.File,
		Target:     target,
		BuildArgs:  b.in.buildArgs,
		Platform:   b.classicPlatform(),
		CacheFrom:  b.in.engineCache,
	}
}

// check finds what would fail the builds before the engine is asked for
// anything: the context, its ignore file, the Dockerfile's syntax and
// stages. A typo fails in a second, without an engine.
func (b *builder) check() error {
	var builds []engine.BuildOptions
	if b.s.TestTarget != "" {
		builds = append(builds, b.buildOptions(b.s.TestTarget))
	}
	builds = append(builds, b.buildOptions(b.s.Target))
	for _, o := range builds {
		if err := engine.Check(o); err != nil {
			return b.buildError(o, err)
		}
	}
	return nil
}

// classicPlatform is the one --platform the classic builder takes.
func (b *builder) classicPlatform() string {
	if len(b.in.platforms) == 1 {
		return b.in.platforms[0]
	}
	return ""
}

// build runs one build into the engine in a log group; final is the image
// that ships, built for --platform, the test stage the runner's own.
func (b *builder) build(ctx context.Context, title string, o engine.BuildOptions, final bool) (string, error) {
	var id string
	err := b.r.Group(title, func() error {
		var err error
		if b.bk != nil {
			id, err = b.buildKitImage(ctx, o, final)
		} else {
			id, err = b.eng.Build(ctx, o, b.r.Stdout)
		}
		return err
	})
	if err != nil {
		return "", b.buildError(o, err)
	}
	return id, nil
}

// buildError makes what the user can fix a usage error (exit 2) and puts
// a failed instruction on its Dockerfile line.
func (b *builder) buildError(o engine.BuildOptions, err error) error {
	var be *engine.BuildError
	var bke *buildkit.BuildError
	var oe *buildkit.OptionError
	var se *engine.SyntaxError
	var ie *engine.IgnoreFileError
	switch {
	case errors.As(err, &ie):
		return step.Usagef("%w", err) // it names the file
	case errors.Is(err, engine.ErrBadContext):
		return step.Usagef("--context: %w", err)
	case errors.As(err, &se):
		// As lint reports it: on the line, under lint's rule for it.
		b.r.Platform.Annotate(b.r.Stdout, finding.Finding{RuleID: "DL1000", Severity: finding.Error,
			File: b.relToWorkspace(se.Dockerfile), Line: se.Line, Message: "syntax error: " + se.Detail()})
		return fmt.Errorf("%w: %w", err, step.ErrCheckFailed)
	case errors.Is(err, engine.ErrDockerfileNotFound):
		return step.Usagef("%w (set --file, or --context to the directory that holds it)", err)
	case errors.Is(err, engine.ErrUnknownTarget):
		flag := "--target"
		if o.Target == b.s.TestTarget && o.Target != "" {
			flag = "--test-target"
		}
		return step.Usagef("%s: %w", flag, err)
	case errors.As(err, &oe):
		return step.Usagef("%w", err)
	case errors.As(err, &bke):
		b.r.Platform.Annotate(b.r.Stdout, finding.Finding{RuleID: "BUILD", Severity: finding.Error,
			File: b.relToWorkspace(bke.Dockerfile), Line: bke.Line, Message: bke.Err.Error()})
		return fmt.Errorf("%w: %w", err, step.ErrCheckFailed)
	case errors.As(err, &be):
		b.r.Platform.Annotate(b.r.Stdout, finding.Finding{RuleID: "BUILD", Severity: finding.Error,
			File: b.relToWorkspace(be.Dockerfile), Line: be.Line, Message: be.Error()})
		return fmt.Errorf("%w: %w", err, step.ErrCheckFailed)
	}
	return err
}

// relToWorkspace makes a path the CI can place: relative to the
// repository root, with forward slashes.
func (b *builder) relToWorkspace(path string) string {
	ws := b.r.Context().Workspace
	abs, err := filepath.Abs(path)
	if err != nil || ws == "" {
		return filepath.ToSlash(path)
	}
	rel, err := filepath.Rel(ws, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}

// maskSecrets makes the values of --secret secrets of the run: a RUN that
// prints one shows it masked, as the CI's own secrets are.
func (b *builder) maskSecrets() {
	for _, sec := range b.in.secrets {
		var value string
		if sec.Env != "" {
			value, _ = os.LookupEnv(sec.Env)
		} else if data, err := os.ReadFile(sec.FilePath); err == nil && len(data) <= 64<<10 {
			value = string(data)
		}
		for _, line := range strings.Split(value, "\n") {
			// Short lines of a file ("{", "[auth]") are not secrets.
			if line = strings.TrimSpace(line); len(line) >= 6 || sec.Env != "" && line != "" {
				b.r.AddSecret(line)
			}
		}
	}
}
