package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/buildkittest"
	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/registrytest"
	"github.com/gitship/gitship/internal/steptest"
)

// TestContainerBuilder: --builder docker-container://NAME builds with the
// buildkitd in that container of the engine, reached by running
// `buildctl dial-stdio` in it through the Engine API's exec (buildx's
// docker-container driver's way): a RUN on a base image from the loopback
// registry, exported as an OCI layout and loaded into the engine.
func TestContainerBuilder(t *testing.T) {
	env := engineEnv(t)
	host := env["DOCKER_HOST"]
	reg := registrytest.Start(t, registrytest.Options{})
	name := buildkittest.StartContainer(t, host, buildkittest.WithInsecureRegistry(reg.Host))
	base := buildkittest.BaseImage(t, reg.Host)
	// The RUN's output (42) is not its command line, so the log shows it ran.
	ws, sha := repo(t, map[string]string{"Dockerfile": "FROM " + base + "\nRUN echo $((6*7)) > /answer && echo answer $(cat /answer)\n"}, "")
	image := "gitship-test/container-builder"
	removeImage(t, image+":"+sha)

	res := steptest.Run(t, binary, ws, env, "--builder", "docker-container://"+name, "--image", image,
		"--output", "oci:out", "--output", "docker")
	mustSucceed(t, res)
	for _, want := range []string{"Builder: buildkitd in container " + name + " of the engine at " + host, "answer 42"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
		}
	}
	out := steptest.Outputs(t, ws, "build")
	if _, err := os.Stat(filepath.Join(ws, "out", "index.json")); err != nil {
		t.Errorf("--output oci:out wrote no layout: %v", err)
	}
	img, err := engineClient(t).ImageInspect(context.Background(), image+":"+sha)
	if err != nil {
		t.Fatalf("--output docker: %s:%s is not in the engine: %v", image, sha, err)
	}
	if img.ID != out["image-id"] {
		t.Errorf("%s:%s is %s, output image-id %s", image, sha, img.ID, out["image-id"])
	}
}

// A docker-container:// builder that cannot be reached fails the step as
// bad input (exit 2), naming the container and the engine: a container
// that does not exist, one that is not running, one with no BuildKit in it.
func TestContainerBuilderUnreachable(t *testing.T) {
	env := engineEnv(t)
	host := env["DOCKER_HOST"]
	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM scratch\nCOPY Dockerfile /\n"}, "")
	for _, tc := range []struct {
		name      string
		container func(t *testing.T) string
		why       string
	}{
		{"no such container", func(*testing.T) string { return "gitship-no-such-buildkitd" }, "No such container"},
		{"not running", func(t *testing.T) string { return busyboxContainer(t, host, false) }, "is not running"},
		{"no buildkit in it", func(t *testing.T) string { return busyboxContainer(t, host, true) }, "buildctl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.container(t)
			res := steptest.Run(t, binary, ws, env, "--builder", "docker-container://"+name, "--output", "oci:out")
			if res.Code != 2 || !strings.Contains(res.Stderr, "container "+name+" of the engine at "+host) {
				t.Errorf("exit %d, want 2 naming container %s and the engine\nstdout:\n%s\nstderr:\n%s", res.Code, name, res.Stdout, res.Stderr)
			}
			if !strings.Contains(res.Stderr, tc.why) {
				t.Errorf("stderr does not say why (%q):\n%s", tc.why, res.Stderr)
			}
		})
	}
}

// busyboxContainer creates a container of the engine's busybox image that
// sleeps, started or not, removed when the test ends.
func busyboxContainer(t *testing.T, host string, start bool) string {
	t.Helper()
	base := enginetest.BaseImage(t, host)
	c := engineClient(t)
	ctx := context.Background()
	name := "gitship-test-" + strings.NewReplacer("/", "-", " ", "-").Replace(strings.ToLower(t.Name()))
	c.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
	if _, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
		Config: &container.Config{Image: base, Cmd: []string{"sleep", "600"}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ContainerRemove(context.Background(), name, client.ContainerRemoveOptions{Force: true}) })
	if start {
		if _, err := c.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return name
}
