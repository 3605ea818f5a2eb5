package buildkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerfile/builder"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/sirupsen/logrus"
	"github.com/tonistiigi/fsutil"
)

// SolveOptions are what to build and where the image goes.
type SolveOptions struct {
	// ContextDir is the build context; "" is the working directory.
	ContextDir string
	// Dockerfile is the Dockerfile's path; "" is ContextDir/Dockerfile.
	Dockerfile string
	Target     string
	BuildArgs  map[string]string
	Labels     map[string]string
	// Platforms to build for ("linux/amd64"); none is the daemon's own.
	Platforms []string
	Secrets   []Secret
	SSH       []SSH
	// BuildContexts are named contexts: a local directory, or a source the
	// frontend reads ("docker-image://alpine:3.20").
	BuildContexts map[string]string
	CacheFrom     []client.CacheOptionsEntry
	CacheTo       []client.CacheOptionsEntry
	NoCache       bool

	// Export says where the image goes; the zero value keeps it in
	// BuildKit's cache only (a check build).
	Export Export

	// Progress reads the build's status stream until it is closed; nil
	// discards it.
	Progress func(<-chan *client.SolveStatus)
	// Log takes one-line notes on how the build is done (the frontend
	// used); nil discards them.
	Log io.Writer
}

// Export is where a build's image goes.
type Export struct {
	// Engine puts the image into the Docker engine's image store, named
	// Names: directly with the engine's own BuildKit, through Load (a
	// docker load of the "docker" exporter's tarball) with any other.
	Engine bool
	Names  []string
	Load   func(io.Reader) error
	// OCIDir writes an OCI image layout to this directory with BuildKit's
	// "oci" exporter; several platforms make an index.
	OCIDir string
}

// Result is what a build made.
type Result struct {
	// Digest is the digest of the image's manifest, or of its index for
	// several platforms, when the exporter made one (oci, docker).
	Digest string
	// ImageID is the image's ID in the engine (its config's digest) when
	// it went to the engine.
	ImageID string
	// BaseImages are the images the build started from, as the
	// Dockerfile frontend resolved them; provenance lists them.
	BaseImages []BaseImage
}

// BuildError is a build that failed on a line of the Dockerfile.
type BuildError struct {
	Dockerfile string // as given
	Line       int    // 1-based; 0 when BuildKit did not say
	Err        error
}

func (e *BuildError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Dockerfile, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Dockerfile, e.Err)
}

func (e *BuildError) Unwrap() error { return e.Err }

// syntaxTimeout bounds the look-up of a "# syntax=" frontend image: a
// runner with no route to the registry should fall back, not wait.
const syntaxTimeout = 15 * time.Second

// Solve builds the Dockerfile. A failed instruction is a *BuildError.
func (b *Builder) Solve(ctx context.Context, o SolveOptions) (Result, error) {
	contextDir := o.ContextDir
	if contextDir == "" {
		contextDir = "."
	}
	dockerfile := o.Dockerfile
	if dockerfile == "" {
		dockerfile = filepath.Join(contextDir, "Dockerfile")
	}
	src, err := os.ReadFile(dockerfile)
	if err != nil {
		return Result{}, fmt.Errorf("read Dockerfile: %w", err)
	}
	ctxFS, err := fsutil.NewFS(contextDir)
	if err != nil {
		return Result{}, fmt.Errorf("build context %s: %w", contextDir, err)
	}
	dfFS, err := fsutil.NewFS(filepath.Dir(dockerfile))
	if err != nil {
		return Result{}, fmt.Errorf("Dockerfile directory: %w", err)
	}

	attrs := map[string]string{"filename": filepath.Base(dockerfile)}
	if o.Target != "" {
		attrs["target"] = o.Target
	}
	for k, v := range o.BuildArgs {
		attrs["build-arg:"+k] = v
	}
	for k, v := range o.Labels {
		attrs["label:"+k] = v
	}
	if len(o.Platforms) > 0 {
		attrs["platform"] = strings.Join(o.Platforms, ",")
	}
	if o.NoCache {
		attrs["no-cache"] = ""
	}
	mounts := map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS}
	for name, source := range o.BuildContexts {
		if strings.Contains(source, "://") {
			attrs["context:"+name] = source
			continue
		}
		fs, err := fsutil.NewFS(source)
		if err != nil {
			return Result{}, &OptionError{"build-context", name + "=" + source, err.Error()}
		}
		mount := "context-" + name
		mounts[mount] = fs
		attrs["context:"+name] = "local:" + mount
	}

	attach, err := b.attachables(o)
	if err != nil {
		return Result{}, err
	}
	exports, wait, err := b.exports(o.Export)
	if err != nil {
		return Result{}, err
	}
	opt := client.SolveOpt{
		Exports:       exports,
		LocalMounts:   mounts,
		FrontendAttrs: attrs,
		CacheImports:  o.CacheFrom,
		CacheExports:  o.CacheTo,
		Session:       attach,
	}

	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	syntaxRef, _, _, hasSyntax := parser.DetectSyntax(src)
	var bases *baseImageRecorder
	frontend := func(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
		if hasSyntax {
			rctx, cancel := context.WithTimeout(ctx, syntaxTimeout)
			_, _, _, err := c.ResolveImageConfig(rctx, syntaxRef, sourceresolver.Opt{})
			cancel()
			if err != nil {
				fmt.Fprintf(logw, "# syntax=%s: the frontend image cannot be had (%v); building with the built-in Dockerfile frontend instead\n",
					syntaxRef, firstLine(unwrapGRPC(err).Error()))
				c = builtinFrontend{c}
			} else {
				fmt.Fprintf(logw, "# syntax=%s: building with that frontend image\n", syntaxRef)
			}
		}
		// After the # syntax= look-up: the frontend image is not a base.
		bases = &baseImageRecorder{Client: c}
		return builder.Build(ctx, bases)
	}

	quietLibraries()
	ch := make(chan *client.SolveStatus)
	failed := make(chan string, 1) // the name of the first vertex that failed
	go watch(ch, o.Progress, failed)
	res, err := b.c.Build(ctx, opt, "", frontend, ch)
	failedVertex := <-failed
	if werr := wait(); err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		return Result{}, b.solveError(ctx, dockerfile, src, failedVertex, err)
	}
	r := Result{Digest: res.ExporterResponse[exptypes.ExporterImageDigestKey]}
	if bases != nil {
		r.BaseImages = bases.baseImages()
	}
	if o.Export.Engine {
		r.ImageID = res.ExporterResponse[exptypes.ExporterImageConfigDigestKey]
		if r.ImageID == "" && b.engine {
			// The engine's exporter of Docker 20.10 reports the image ID as the digest.
			r.ImageID = r.Digest
			r.Digest = ""
		}
	}
	return r, nil
}

// builtinFrontend hides a "# syntax=" line from the Dockerfile frontend, as
// the frontend attribute cmdline does: it then builds with itself.
type builtinFrontend struct{ gwclient.Client }

func (c builtinFrontend) BuildOpts() gwclient.BuildOpts {
	o := c.Client.BuildOpts()
	opts := make(map[string]string, len(o.Opts)+1)
	for k, v := range o.Opts {
		opts[k] = v
	}
	opts["cmdline"] = ""
	o.Opts = opts
	return o
}

// attachables are what the session serves the daemon: registry logins
// (the docker CLI's config, so docker/login-action and friends apply),
// secrets and SSH agents.
func (b *Builder) attachables(o SolveOptions) ([]session.Attachable, error) {
	cfg := config.LoadDefaultConfigFile(io.Discard)
	out := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(cfg)})}
	if len(o.Secrets) > 0 {
		store, err := secretsprovider.NewStore(o.Secrets)
		if err != nil {
			return nil, &OptionError{"secret", o.Secrets[0].ID, err.Error()}
		}
		out = append(out, secretsprovider.NewSecretProvider(store))
	}
	if len(o.SSH) > 0 {
		p, err := sshprovider.NewSSHAgentProvider(o.SSH)
		if err != nil {
			return nil, &OptionError{"ssh", o.SSH[0].ID, err.Error()}
		}
		out = append(out, p)
	}
	return out, nil
}

// exports turns an Export into BuildKit's exporters; wait returns once
// what they wrote has been taken in (the engine's docker load).
func (b *Builder) exports(e Export) (_ []client.ExportEntry, wait func() error, _ error) {
	var out []client.ExportEntry
	var waits []func() error
	names := strings.Join(e.Names, ",")
	switch {
	case e.Engine && b.engine:
		// The engine's exporter is "moby" in Docker 20.10 to 24, and an
		// alias of "image" in later engines.
		attrs := map[string]string{}
		if names != "" {
			attrs["name"] = names
		}
		out = append(out, client.ExportEntry{Type: "moby", Attrs: attrs})
	case e.Engine:
		if e.Load == nil {
			return nil, nil, errors.New("exporting to the Docker engine needs an engine to load the image into")
		}
		attrs := map[string]string{}
		if names != "" {
			attrs["name"] = names
		}
		loadErr := make(chan error, 1)
		var started atomic.Bool
		out = append(out, client.ExportEntry{Type: client.ExporterDocker, Attrs: attrs,
			Output: func(map[string]string) (io.WriteCloser, error) {
				started.Store(true)
				pr, pw := io.Pipe()
				go func() {
					err := e.Load(pr)
					pr.CloseWithError(err)
					loadErr <- err
				}()
				return pw, nil
			}})
		waits = append(waits, func() error {
			if !started.Load() {
				return nil // the build failed before exporting
			}
			return <-loadErr // the engine still reads the tarball's end
		})
	}
	if e.OCIDir != "" {
		attrs := map[string]string{"tar": "false"}
		if names != "" {
			attrs["name"] = names
		}
		out = append(out, client.ExportEntry{Type: client.ExporterOCI, Attrs: attrs, OutputDir: e.OCIDir})
	}
	return out, func() error {
		var errs []error
		for _, w := range waits {
			errs = append(errs, w())
		}
		return errors.Join(errs...)
	}, nil
}

// solveError puts a failed build on its Dockerfile line when BuildKit says
// which one, and says what happened in one line rather than gRPC's wrapping.
func (b *Builder) solveError(ctx context.Context, dockerfile string, src []byte, failedVertex string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("build %s: %w", dockerfile, ctx.Err())
	}
	var oe *OptionError
	if errors.As(err, &oe) {
		return err
	}
	line := 0
	for _, s := range errdefs.Sources(err) {
		if s.Info != nil && filepath.Base(s.Info.Filename) == filepath.Base(dockerfile) && len(s.Ranges) > 0 && s.Ranges[0].Start != nil {
			line = int(s.Ranges[0].Start.Line)
			break
		}
	}
	if line == 0 {
		line = vertexLine(src, failedVertex)
	}
	msg := unwrapGRPC(err)
	var ve *errdefs.VertexError
	if line == 0 && failedVertex == "" && !errors.As(err, &ve) {
		return fmt.Errorf("build %s with %s: %w", dockerfile, b.name, msg)
	}
	return &BuildError{Dockerfile: dockerfile, Line: line, Err: msg}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// watch hands the status stream to progress and notes the first vertex
// that failed; it sends that name (or "") once ch is closed and progress
// has returned.
func watch(ch <-chan *client.SolveStatus, progress func(<-chan *client.SolveStatus), failed chan<- string) {
	fwd := make(chan *client.SolveStatus)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if progress != nil {
			progress(fwd)
		}
		for range fwd { // whatever progress left unread
		}
	}()
	name := ""
	for s := range ch {
		for _, v := range s.Vertexes {
			if v.Error != "" && name == "" {
				name = v.Name
			}
		}
		fwd <- s
	}
	close(fwd)
	<-done
	failed <- name
}

// quietLibraries keeps the warnings BuildKit's and containerd's packages
// log through logrus ("failed check for fsverity support" when the OCI
// exporter writes a directory) out of the step's stderr: what matters
// comes back as an error or through the progress stream.
func quietLibraries() {
	if logrus.GetLevel() > logrus.ErrorLevel {
		logrus.SetLevel(logrus.ErrorLevel)
	}
}
