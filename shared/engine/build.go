package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BuildOptions is what to build and how.
type BuildOptions struct {
	// ContextDir is the build context; "" is the working directory. Its
	// .dockerignore (or a <Dockerfile>.dockerignore next to the Dockerfile)
	// says what is not sent.
	ContextDir string
	// Dockerfile is the Dockerfile's path, relative to the working
	// directory like docker build -f; "" is ContextDir/Dockerfile. It may
	// lie outside the context.
	Dockerfile string
	// Target is the stage to build up to; "" builds the whole Dockerfile.
	Target string
	// BuildArgs are the values of ARGs.
	BuildArgs map[string]string
	// Labels are added to the resulting image.
	Labels map[string]string
	// Platform is the platform to build for ("linux/arm64"); "" is the
	// engine's own.
	Platform string
	// CacheFrom names local images whose layers may serve as cache.
	CacheFrom []string
	// Tags name the resulting image ("app:1.2", "registry/app:sha").
	Tags []string
	// Keep leaves the resulting image, its tags and the layers it is made
	// of in the engine after Cleanup: the image the caller hands on.
	Keep bool
}

// buildRec is what one build created, for Cleanup.
type buildRec struct {
	result  string   // the resulting image ID; "" when the build failed
	created []string // IDs of the images the build created, oldest first
	keep    bool
}

// errBuildEnded stops the context writer when the engine no longer reads.
var errBuildEnded = errors.New("build ended")

// listTimeout bounds the image listing that follows a build, which runs
// even when the build was cancelled so that Cleanup knows what to remove.
const listTimeout = 30 * time.Second

// Check finds, without an engine, what would fail Build before the engine
// builds anything: a context directory that is not there (ErrBadContext),
// an ignore file that is not a list of patterns (*IgnoreFileError), a
// missing Dockerfile (ErrDockerfileNotFound), one the parser refuses
// (*SyntaxError), a target it lacks (*TargetError).
func Check(o BuildOptions) error {
	_, _, err := prepare(o)
	return err
}

func prepare(o BuildOptions) (*buildContext, *dockerfile, error) {
	bc, err := newBuildContext(o.ContextDir, o.Dockerfile)
	if err != nil {
		return nil, nil, err
	}
	df, err := readDockerfile(bc.dockerfile, bc.display)
	if err != nil {
		return nil, nil, err
	}
	if o.Target != "" {
		if err := df.checkTarget(o.Target); err != nil {
			return nil, nil, err
		}
	}
	return bc, df, nil
}

// Build builds an image and returns its ID ("sha256:..."). The builder's
// output goes to log line by line as it comes. A missing Dockerfile is an
// error wrapping ErrDockerfileNotFound, a target the Dockerfile lacks a
// *TargetError, a failed instruction a *BuildError.
func (e *Engine) Build(ctx context.Context, o BuildOptions, log io.Writer) (id string, err error) {
	if log == nil {
		log = io.Discard
	}
	bc, df, err := prepare(o)
	if err != nil {
		return "", err
	}
	opts := client.ImageBuildOptions{
		Tags:       o.Tags,
		Dockerfile: bc.name,
		Target:     o.Target,
		Labels:     o.Labels,
		CacheFrom:  o.CacheFrom,
		// Remove the builder's containers even when a step fails.
		Remove:      true,
		ForceRemove: true,
		// The classic builder: see the package documentation.
		Version: build.BuilderV1,
	}
	if len(o.BuildArgs) > 0 {
		opts.BuildArgs = make(map[string]*string, len(o.BuildArgs))
		for k, v := range o.BuildArgs {
			opts.BuildArgs[k] = &v
		}
	}
	if o.Platform != "" {
		p, err := platforms.Parse(o.Platform)
		if err != nil {
			return "", fmt.Errorf("platform %q: %w", o.Platform, err)
		}
		opts.Platforms = []ocispec.Platform{p}
	}

	before, err := e.imageIDs(ctx)
	if err != nil {
		return "", err
	}
	bl := &buildLog{out: log, df: df}
	defer func() {
		// Even a failed or cancelled build leaves layers behind.
		e.recordBuild(context.WithoutCancel(ctx), before, bl, id, o.Keep)
	}()

	pr, pw := io.Pipe()
	tarErr := make(chan error, 1)
	go func() {
		err := bc.writeTar(pw)
		pw.CloseWithError(err)
		tarErr <- err
	}()
	res, err := e.client.ImageBuild(ctx, pr, opts)
	if err == nil {
		err = bl.read(res.Body)
		res.Body.Close()
	}
	// Unblock the writer if the engine stopped reading early.
	pr.CloseWithError(errBuildEnded)
	if terr := <-tarErr; terr != nil && !errors.Is(terr, errBuildEnded) {
		return "", terr // the cause of whatever else failed: an unreadable file, say
	}
	var be *BuildError
	switch {
	case errors.As(err, &be):
		return "", err
	case err != nil && ctx.Err() != nil:
		return "", fmt.Errorf("build %s: %w", bc.display, ctx.Err())
	case err != nil:
		return "", fmt.Errorf("build %s: %w", bc.display, err)
	}
	// The last aux ID is the result of the last stage built; "Successfully
	// built" names the image the build ends with, should the two differ.
	if bl.built != "" && !strings.HasPrefix(strings.TrimPrefix(bl.imageID, "sha256:"), bl.built) {
		img, err := e.client.ImageInspect(ctx, bl.built)
		if err != nil {
			return "", fmt.Errorf("inspect built image %s: %w", bl.built, err)
		}
		bl.imageID = img.ID
	}
	if bl.imageID == "" {
		return "", fmt.Errorf("build %s: the engine reported no image ID", bc.display)
	}
	return bl.imageID, nil
}

// imageIDs lists every image in the engine, intermediate ones included.
func (e *Engine) imageIDs(ctx context.Context) (map[string]bool, error) {
	res, err := e.client.ImageList(ctx, client.ImageListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	ids := make(map[string]bool, len(res.Items))
	for _, img := range res.Items {
		ids[img.ID] = true
	}
	return ids, nil
}

// recordBuild remembers the images a build created: those that are new
// since before and that the build's own output named. Both conditions keep
// another build running on the same engine from being counted as ours.
func (e *Engine) recordBuild(ctx context.Context, before map[string]bool, bl *buildLog, result string, keep bool) {
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	rec := buildRec{result: result, keep: keep}
	after, err := e.imageIDs(ctx)
	if err != nil {
		// Cleanup can still remove the result.
		after = map[string]bool{}
		if rec.result != "" {
			after[rec.result] = true
		}
	}
	var fresh []string
	for id := range after {
		if !before[id] {
			fresh = append(fresh, id)
		}
	}
	add := func(ref string) {
		for _, id := range fresh {
			hex := strings.TrimPrefix(id, "sha256:")
			if strings.HasPrefix(hex, strings.TrimPrefix(ref, "sha256:")) && !slices.Contains(rec.created, id) {
				rec.created = append(rec.created, id)
			}
		}
	}
	for _, ref := range bl.images {
		add(ref)
	}
	if bl.imageID != "" {
		add(bl.imageID) // the result, or the last stage a failed build finished
	}
	e.mu.Lock()
	e.builds = append(e.builds, rec)
	e.mu.Unlock()
}
