package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/gitship/gitship/shared/buildkit"
	"github.com/gitship/gitship/shared/buildprogress"
	"github.com/gitship/gitship/shared/engine"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/step"
)

// needsEngine reports whether the run needs the Docker engine: to run the
// tests, to keep the image there, or to build with the engine's builders.
func (b *builder) needsEngine() bool {
	return b.s.TestTarget != "" || b.in.docker || b.in.builder == "" || b.in.builder == "classic" ||
		strings.HasPrefix(b.in.builder, "docker-container://")
}

// connectBuilder picks what builds and says so in the log: the builder
// given, else the engine's BuildKit, else (an engine without one: Podman's
// API, engines before 19.03) the engine's classic builder.
func (b *builder) connectBuilder(ctx context.Context) error {
	var eng buildkit.Engine
	if b.eng != nil {
		eng = b.eng
	}
	switch b.in.builder {
	case "classic":
		fmt.Fprintln(b.r.Stdout, "Builder: the engine's classic builder (--builder classic)")
		return b.classicOnly("--builder classic")
	case "":
		bk, err := buildkit.ConnectEngine(ctx, eng)
		if err != nil {
			why := fmt.Sprintf("the engine at %s serves no BuildKit API", b.eng.Host())
			if b.wantsBuildKit() {
				return step.Usagef("%s, and --platform with several platforms, --secret, --ssh, --build-context and --cache-to need one: "+
					"give --builder unix:///run/buildkit/buildkitd.sock (or tcp://, docker-container://): %w", why, err)
			}
			fmt.Fprintf(b.r.Stdout, "Builder: the engine's classic builder, because %s (%v)\n", why, err)
			return b.classicOnly(why)
		}
		b.bk = bk
	default:
		bk, err := buildkit.Connect(ctx, b.in.builder, b.in.tls, eng)
		if err != nil {
			return step.Usagef("--builder: %w", err)
		}
		b.bk = bk
		if b.eng != nil && b.s.TestTarget != "" {
			p, err := b.eng.Platform(ctx)
			if err != nil {
				return err
			}
			b.enginePlatform = p
		}
	}
	fmt.Fprintf(b.r.Stdout, "Builder: %s, with the Dockerfile frontend of BuildKit %s\n", b.bk.Name(), buildkit.FrontendVersion())
	if b.bk.InEngine() {
		switch {
		case len(b.in.platforms) > 1:
			return step.Usagef("--platform %s: the engine's BuildKit keeps one platform per image in its image store; "+
				"several platforms need a standalone BuildKit: give --builder unix:///run/buildkit/buildkitd.sock (or tcp://, docker-container://)", strings.Join(b.in.platforms, ","))
		}
	} else if len(b.in.platforms) > 1 && b.in.docker {
		return step.Usagef("--platform %s with --output docker: an engine holds one platform per image; write the index with --output oci:DIR alone", strings.Join(b.in.platforms, ","))
	}
	return nil
}

// wantsBuildKit reports whether an input needs BuildKit.
func (b *builder) wantsBuildKit() bool {
	return len(b.in.platforms) > 1 || len(b.in.secrets) > 0 || len(b.in.ssh) > 0 || len(b.in.contexts) > 0 || len(b.in.cacheTo) > 0
}

// classicOnly fails, before anything is built, a Dockerfile that only
// BuildKit builds: the classic builder would stop at the line with an
// error that says less.
func (b *builder) classicOnly(why string) error {
	path := b.s.File
	if path == "" {
		path = filepath.Join(b.s.Context, "Dockerfile")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil // engine.Check has said what is wrong with it
	}
	line, feature := buildKitOnly(src)
	if line == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s needs BuildKit, but the classic builder builds here because %s: "+
		"build on a Docker engine that serves BuildKit's API (Docker 19.03 or later), "+
		"or give --builder unix:///run/buildkit/buildkitd.sock (a standalone buildkitd)", feature, why)
	b.r.Platform.Annotate(b.r.Stdout, finding.Finding{RuleID: "BUILD", Severity: finding.Error,
		File: b.relToWorkspace(path), Line: line, Message: msg})
	return fmt.Errorf("%s:%d: %s: %w", path, line, msg, step.ErrCheckFailed)
}

// buildKitOnly finds the first instruction only BuildKit builds.
func buildKitOnly(src []byte) (line int, feature string) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return 0, ""
	}
	for _, n := range res.AST.Children {
		cmd := strings.ToUpper(n.Value)
		if len(n.Heredocs) > 0 {
			return n.StartLine, cmd + " with a heredoc"
		}
		for _, f := range n.Flags {
			name, _, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
			switch {
			case cmd == "RUN" && (name == "mount" || name == "network" || name == "security"):
				return n.StartLine, "RUN --" + name
			case (cmd == "COPY" || cmd == "ADD") && (name == "link" || name == "exclude" || name == "parents" || name == "checksum" || name == "keep-git-dir"):
				return n.StartLine, cmd + " --" + name
			}
		}
	}
	return 0, ""
}

// solve runs one BuildKit build, its progress folded into the log. A
// cache that cannot be written is a warning: the build is done again
// without it (from the cache it just made) and goes on.
func (b *builder) solve(ctx context.Context, o buildkit.SolveOptions) (buildkit.Result, error) {
	var sum *buildprogress.Summary
	o.Progress = func(ch <-chan *client.SolveStatus) { sum = buildprogress.Print(b.r.Stdout, ch) }
	o.Log = b.r.Stdout
	res, err := b.bk.Solve(ctx, o)
	if err != nil && len(o.CacheTo) > 0 && ctx.Err() == nil && cacheExportFailed(err, sum) {
		fmt.Fprintf(b.r.Stdout, "Building again without --cache-to: %v\n", err)
		b.r.Platform.Annotate(b.r.Stdout, finding.Finding{RuleID: "BUILD", Severity: finding.Warning,
			Message: fmt.Sprintf("--cache-to: the build cache was not written: %v", err)})
		o.CacheTo = nil
		res, err = b.bk.Solve(ctx, o)
	}
	if sum != nil {
		for _, w := range sum.Warnings {
			f := finding.Finding{RuleID: "BUILDKIT", Severity: finding.Warning, Message: w.Short}
			if w.Line > 0 {
				f.File, f.Line = b.relToWorkspace(b.dockerfilePath()), w.Line
			}
			b.r.Platform.Annotate(b.r.Stdout, f)
		}
	}
	return res, err
}

// cacheExportFailed tells a build that failed exporting its cache from
// one that failed building: no Dockerfile line, and the failed vertex (or
// the error) is the cache export.
func cacheExportFailed(err error, sum *buildprogress.Summary) bool {
	var be *buildkit.BuildError
	if errors.As(err, &be) && be.Line > 0 {
		return false
	}
	if sum != nil && sum.Failed != nil {
		return strings.HasPrefix(sum.Failed.Name, "exporting cache") || strings.HasPrefix(sum.Failed.Name, "exporting to")
	}
	msg := err.Error()
	return strings.Contains(msg, "cache export") || strings.Contains(msg, "export cache") || strings.Contains(msg, "cache exporter")
}

func (b *builder) dockerfilePath() string {
	if b.s.File != "" {
		return b.s.File
	}
	return filepath.Join(b.s.Context, "Dockerfile")
}

// solveOptions is what BuildKit builds for o.
func (b *builder) solveOptions(o engine.BuildOptions, final bool) buildkit.SolveOptions {
	so := buildkit.SolveOptions{
		ContextDir:    o.ContextDir,
		Dockerfile:    o.Dockerfile,
		Target:        o.Target,
		BuildArgs:     o.BuildArgs,
		Labels:        o.Labels,
		Secrets:       b.in.secrets,
		SSH:           b.in.ssh,
		BuildContexts: b.in.contexts,
		CacheFrom:     b.in.cacheFrom,
	}
	if final {
		// The image ships for the platforms asked, and only its build
		// writes the cache.
		so.Platforms = b.in.platforms
		so.CacheTo = b.in.cacheTo
	} else if b.enginePlatform != "" {
		// The tests run in the engine: its platform, whatever a remote
		// builder's own is.
		so.Platforms = []string{b.enginePlatform}
	}
	return so
}

// loadInto is the engine's docker load, for a standalone BuildKit's image.
func (b *builder) loadInto(ctx context.Context) func(io.Reader) error {
	if b.eng == nil {
		return nil
	}
	return func(r io.Reader) error { return b.eng.LoadImage(ctx, r) }
}

// buildKitImage builds o into the engine with BuildKit and returns the
// image's ID there; Cleanup removes it unless o.Keep.
func (b *builder) buildKitImage(ctx context.Context, o engine.BuildOptions, final bool) (string, error) {
	so := b.solveOptions(o, final)
	so.Export = buildkit.Export{Engine: true, Names: o.Tags, Load: b.loadInto(ctx)}
	res, err := b.solve(ctx, so)
	if err != nil {
		return "", err
	}
	if res.ImageID == "" {
		return "", fmt.Errorf("build %s: %s reported no image ID", b.dockerfilePath(), b.bk.Name())
	}
	b.eng.Adopt(res.ImageID, o.Keep)
	if final {
		b.rec.bases = res.BaseImages
	}
	if !final { // final says so itself, as with the classic builder
		fmt.Fprintf(b.r.Stdout, "Built image %s\n", res.ImageID)
	}
	return res.ImageID, nil
}
