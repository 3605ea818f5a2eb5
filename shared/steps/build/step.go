package build

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/step"
)

// Settings are the build step's inputs.
type Settings struct {
	Context     string
	File        string
	BuildArgs   cli.StringSlice
	Labels      cli.StringSlice
	Platform    string
	CacheFrom   cli.StringSlice
	CacheTo     cli.StringSlice
	Secrets     cli.StringSlice
	SSH         cli.StringSlice
	Contexts    cli.StringSlice
	Builder     string
	BuilderTLS  BuilderTLS
	Target      string
	Image       string
	Tags        cli.StringSlice
	Outputs     cli.StringSlice
	TestTarget  string
	TestCommand string
	TestEnv     cli.StringSlice
	TestReport  string
	Cache       bool
	Keep        bool
	DockerHost  string
}

// BuilderTLS are the TLS files of a tcp:// --builder.
type BuilderTLS struct{ CA, Cert, Key string }

// Step declares the build step: the binary, the GitHub action, the Azure
// task and the docs are all made from it.
func Step() step.Step {
	s := &Settings{}
	return step.Step{
		Name:        "build",
		Description: "Build the Dockerfile's test stage with BuildKit and run the tests inside the container, then build the final image labelled with its commit, for one platform or several; leave it in the Docker engine or write it as an OCI layout for publish.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "context", Value: ".", Destination: &s.Context,
				Usage: "build context directory; its .dockerignore says what is not sent"},
			&cli.StringFlag{Name: "file", Destination: &s.File,
				Usage: "Dockerfile, relative to the working directory like docker build -f (default: CONTEXT/Dockerfile)"},
			&cli.StringSliceFlag{Name: "build-arg", Destination: &s.BuildArgs,
				Usage: "build argument as KEY=VALUE, or KEY to take the value from the environment (repeatable)"},
			&cli.StringSliceFlag{Name: "label", Destination: &s.Labels,
				Usage: "label for the final image as KEY=VALUE; overrides the OCI labels gitship sets (repeatable)"},
			&cli.StringFlag{Name: "platform", Destination: &s.Platform,
				Usage: "platforms of the final image, comma-separated, e.g. linux/amd64,linux/arm64: several make one image index (a standalone BuildKit, --output oci:); the tests run on the runner's own (default: the builder's)"},
			&cli.StringSliceFlag{Name: "cache-from", Destination: &s.CacheFrom,
				Usage: "build cache to read, as buildx takes it: type=registry,ref=REGISTRY/app:buildcache, type=local,src=DIR, type=gha (GitHub Actions), or an image reference (repeatable)"},
			&cli.StringSliceFlag{Name: "cache-to", Destination: &s.CacheTo,
				Usage: "build cache to write: type=registry,ref=REGISTRY/app:buildcache,mode=max, type=local,dest=DIR, type=inline or type=gha; a cache that cannot be written is a warning (repeatable)"},
			&cli.StringSliceFlag{Name: "secret", Destination: &s.Secrets,
				Usage: "secret for RUN --mount=type=secret: id=npmrc,src=FILE or id=token,env=VARIABLE; never stored in the image or printed (repeatable)"},
			&cli.StringSliceFlag{Name: "ssh", Destination: &s.SSH,
				Usage: "SSH agent or keys for RUN --mount=type=ssh: default (the agent at SSH_AUTH_SOCK) or ID=PATH (repeatable)"},
			&cli.StringSliceFlag{Name: "build-context", Destination: &s.Contexts,
				Usage: "named build context for COPY --from=NAME and FROM NAME: NAME=DIR or NAME=docker-image://REF (repeatable)"},
			&cli.StringFlag{Name: "builder", Destination: &s.Builder,
				Usage: "BuildKit to build with: unix:///run/buildkit/buildkitd.sock, tcp://HOST:PORT, docker-container://NAME, or classic for the engine's legacy builder (default: the Docker engine's BuildKit, else the classic builder)"},
			&cli.StringFlag{Name: "builder-tls-ca", Destination: &s.BuilderTLS.CA,
				Usage: "CA certificate of a tcp:// --builder"},
			&cli.StringFlag{Name: "builder-tls-cert", Destination: &s.BuilderTLS.Cert,
				Usage: "client certificate for a tcp:// --builder"},
			&cli.StringFlag{Name: "builder-tls-key", Destination: &s.BuilderTLS.Key,
				Usage: "client key for a tcp:// --builder"},
			&cli.StringFlag{Name: "target", Destination: &s.Target,
				Usage: "stage of the final image (default: the Dockerfile's last stage)"},
			&cli.StringFlag{Name: "image", Destination: &s.Image,
				Usage: "name the final image is tagged with in the engine, e.g. registry.example.com/shop/api (default: the repository's name)"},
			&cli.StringSliceFlag{Name: "tag", Destination: &s.Tags,
				Usage: "extra tag for the final image, besides the full commit SHA: a tag of --image (v1) or a whole reference (app:v1) (repeatable)"},
			&cli.StringSliceFlag{Name: "output", Value: cli.NewStringSlice("docker"), Destination: &s.Outputs,
				Usage: "where the final image goes: docker (left in the engine, tagged) and/or oci:DIR (an OCI image layout publish can push from another job) (repeatable)"},
			&cli.StringFlag{Name: "test-target", Destination: &s.TestTarget,
				Usage: "stage to build and run the tests in; no tests run without it"},
			&cli.StringFlag{Name: "test-command", Destination: &s.TestCommand,
				Usage: `command run in the test container: a shell string (run with /bin/sh -c) or a JSON argv like ["go","test","./..."] (default: the stage's CMD)`},
			&cli.StringSliceFlag{Name: "test-env", Destination: &s.TestEnv,
				Usage: "environment variable for the test container as KEY=VALUE, or KEY to pass this one's on (repeatable)"},
			&cli.StringFlag{Name: "test-report", Destination: &s.TestReport,
				Usage: "file the tests write in the container, e.g. /src/report.xml: copied to .gitship/build/ in the workspace; JUnit XML becomes a summary and annotations"},
			&cli.BoolFlag{Name: "cache", Value: true, Destination: &s.Cache,
				Usage: "leave the layers the classic builder created in the engine as cache for the next build, as docker build does; false removes every image the step created except the one --output docker keeps (BuildKit keeps its own cache, which its garbage collection prunes)"},
			&cli.BoolFlag{Name: "keep", Destination: &s.Keep,
				Usage: "leave the containers and images the step created (the test container and test image, the final image of an oci: output) in the engine for debugging; by default they are removed at the end, also on failure or SIGINT/SIGTERM"},
			&cli.StringFlag{Name: "docker-host", Destination: &s.DockerHost,
				Usage: "Docker Engine API address, e.g. unix:///run/user/1000/podman/podman.sock (default: $DOCKER_HOST, else unix:///var/run/docker.sock)"},
		},
		LineLists: []string{"cache-from", "cache-to", "secret", "ssh"},
		Examples:  map[string]string{"context": ".", "test-target": "test", "output": "oci:.gitship/image"},
		Outputs: []step.OutputSpec{
			{Name: "image-id", Description: "ID of the final image in the engine (sha256:..., the digest of its config)"},
			{Name: "digest", Description: "digest of the final image's OCI manifest, when --output oci: is set"},
			{Name: "oci-layout", Description: "directory of the OCI image layout, when --output oci: is set"},
			{Name: "tags", Description: "the final image's tags in the engine, one per line"},
			{Name: "test-exit-code", Description: "exit code of the test command, when --test-target is set"},
			{Name: "test-report", Description: "path of the test report copied out of the container, when --test-report is set"},
		},
		Action: func(ctx context.Context, r *step.Run) error { return Run(ctx, *s, r) },
	}
}
