// Command cloudbuild-emulator runs a Cloud Build config's steps as
// containers on a Docker engine, the way Cloud Build runs them, so that
// gitship's cloudbuild/*.yaml are run by something close to their
// platform's own runner in CI. It is an emulation, not Cloud Build:
//
//   - Each step is a container of its image with the build's workspace (a
//     host directory) mounted at /workspace and the working directory
//     /workspace/<dir>, the engine's socket at /var/run/docker.sock,
//     HOME=/builder/home (kept for the whole build) and BUILDER_OUTPUT
//     (what a step writes to $BUILDER_OUTPUT/output is reported, as Cloud
//     Build keeps it in results.buildStepOutputs). entrypoint, args, env,
//     dir, secretEnv (values from -secret), volumes, timeout,
//     allowExitCodes and allowFailure are honoured; script is not.
//   - Substitutions: $NAME, ${NAME} and $$ in name, args, env, dir and
//     entrypoint. The built-ins come from -s (BUILD_ID and PROJECT_ID have
//     defaults; REVISION_ID, SHORT_SHA and REF_NAME are derived); user
//     substitutions are the config's, overridden by -s. A name with no
//     value is empty under substitutionOption ALLOW_LOOSE, an error
//     otherwise. With automapSubstitutions (the build's option, or the
//     step's, which wins) every substitution with a value is also an
//     environment variable of the step, before options.env and the step's
//     env.
//   - Steps run one at a time in the config's order, which satisfies every
//     waitFor (a step only waits for earlier ones); steps Cloud Build runs
//     at once run one after another. A step that exits non-zero (not
//     allowed) fails the build: later steps do not run.
//   - Nothing is pulled. gitship's step images come from `make images`:
//     -load DIR=REF loads an OCI layout into the engine. Other images
//     (gcr.io/cloud-builders/docker, gcloud, bash) are mapped to local
//     stand-ins with -image FROM=TO, which must have what the step's
//     script runs (the test's: busybox with this machine's bash and docker
//     CLI, and a gcloud script that emulates print-access-token and
//     clusters describe from the environment: cloudbuild/README.md).
//   - Steps run on the host's network (-network), so a registry on this
//     machine's loopback is reachable; Cloud Build's is the bridge network
//     cloudbuild. -env KEY=VALUE adds to every step's environment what only
//     the emulation needs (GITSHIP_INSECURE=true for a plain-HTTP registry). images, artifacts, availableSecrets' Secret Manager and
//     the build's service account are not emulated.
//
// Usage:
//
//	cloudbuild-emulator -config cloudbuild/cloudbuild.yaml -workspace . \
//	  -s COMMIT_SHA=$(git rev-parse HEAD) -s BRANCH_NAME=main -s _AR_HOST=127.0.0.1:5000 \
//	  -load dist/images/gitship-lint=gitship/gitship-lint:dev ... \
//	  -image bash=busybox-bash:1 -skip buildkit
//
// It exits 0 when the build succeeds, 1 when a step fails it, 2 on bad
// flags or config.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/moby/moby/client"
)

type kvFlag map[string]string

func (f kvFlag) String() string { return "" }
func (f kvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not NAME=VALUE", s)
	}
	f[k] = v
	return nil
}

type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }
func (f *listFlag) Set(s string) error {
	*f = append(*f, strings.Split(s, ",")...)
	return nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	fs := flag.NewFlagSet("cloudbuild-emulator", flag.ContinueOnError)
	var (
		config    = fs.String("config", "cloudbuild.yaml", "the build config")
		workspace = fs.String("workspace", ".", "the directory mounted at /workspace")
		network   = fs.String("network", "host", "the steps' network")
		until     = fs.String("until", "", "the id of the last step to run")
		subs      = kvFlag{}
		images    = kvFlag{}
		loads     = kvFlag{}
		secrets   = kvFlag{}
		skip      listFlag
		env       listFlag
	)
	fs.Var(subs, "s", "a substitution NAME=VALUE (repeatable)")
	fs.Var(images, "image", "a step image FROM=TO to run as the local image TO (repeatable)")
	fs.Var(loads, "load", "an OCI layout DIR=REF to load into the engine as REF first (repeatable)")
	fs.Var(secrets, "secret", "the value NAME=VALUE of availableSecrets' env NAME (repeatable)")
	fs.Var(&env, "env", "KEY=VALUE for every step, after options.env (repeatable; a comma splits)")
	fs.Var(&skip, "skip", "step ids not to run, comma-separated (repeatable)")
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	cfg, err := LoadConfig(*config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudbuild-emulator:", err)
		return 2
	}
	ws, err := filepath.Abs(*workspace)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudbuild-emulator:", err)
		return 2
	}
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	socket, _ := strings.CutPrefix(host, "unix://")
	if socket == host {
		socket = "" // not a socket on this machine: the steps get none
	}
	c, err := client.New(client.WithHost(host))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudbuild-emulator: engine:", err)
		return 2
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	for dir, ref := range loads {
		if err := LoadOCI(ctx, c, dir, ref); err != nil {
			fmt.Fprintln(os.Stderr, "cloudbuild-emulator:", err)
			return 2
		}
	}
	b := &Build{Config: cfg, Workspace: ws, Substitutions: defaults(subs), Images: images, Secrets: secrets, Env: env,
		Skip: skip, Until: *until, Socket: socket, Network: *network, Log: os.Stdout}
	res, err := b.Run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudbuild-emulator:", err)
		return 2
	}
	for _, s := range res.Steps {
		if s.Output != "" {
			fmt.Printf("results.buildStepOutputs[%d] (%s): %s\n", s.Index, s.ID, strings.TrimSpace(s.Output))
		}
	}
	if res.Status != "SUCCESS" {
		return 1
	}
	return 0
}

// defaults adds the built-ins every build has.
func defaults(subs map[string]string) map[string]string {
	out := map[string]string{"PROJECT_ID": "emulator-project", "PROJECT_NUMBER": "0", "LOCATION": "global"}
	id := make([]byte, 8)
	if f, err := os.Open("/dev/urandom"); err == nil {
		f.Read(id)
		f.Close()
	}
	out["BUILD_ID"] = fmt.Sprintf("emulator-%x", id)
	for k, v := range subs {
		out[k] = v
	}
	return out
}
