// Package acttest runs GitHub workflows under nektos/act, the GitHub
// Actions emulator, against a real Docker engine, offline: act is built
// from tools/act (a pinned version), the step images are gitship's own
// (tools/imagegen, loaded into the engine through a loopback registry),
// and the job container is an image imported from local files.
//
// act runs each job in a job container and each docker container action
// of it in a container of its own that shares the job container's
// network and workspace, the way GitHub's hosted runners do. Its
// -self-hosted mode (-P ubuntu-latest=-self-hosted) would run the job on
// the host instead, where container actions get the host's paths for
// GITHUB_WORKSPACE and the files under /github, which do not exist in
// their container; so the tests use a job container.
package acttest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/testenv"
)

// Version is the nektos/act version tools/act pins, e.g. "v0.2.89".
func Version() (string, error) {
	return gotool.Version("act", "github.com/nektos/act")
}

// Binary is the act executable. GITSHIP_ACT names one already built;
// otherwise it is built from tools/act once per machine (gotool.Build:
// into $XDG_CACHE_HOME/gitship-test/act-VERSION-SUM/, with the modules
// already in the module cache; no test downloads anything). A cold build
// takes a minute or two. It skips the test when the build fails, or fails
// it under GITSHIP_TEST_STRICT.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := gotool.Build(gotool.Command{Tool: "act", Module: "github.com/nektos/act", Package: "github.com/nektos/act", Env: "GITSHIP_ACT"})
	if err != nil {
		testenv.Unavailable(t, "act: %v", err)
	}
	return bin
}

// RepoRoot is the directory of gitship's go.mod above the working
// directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.HasPrefix(data, []byte("module github.com/gitship/gitship\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no gitship go.mod above the working directory")
		}
		dir = parent
	}
}

// actionImage reads a docker container action's image, docker://REF.
var actionImage = regexp.MustCompile(`(?m)^(  image: ['"]?docker://)([^'"\s]+)`)

// actionFiles are gitship's GitHub actions: action.yml at the root and
// steps/*/action.yml.
func actionFiles() (root string, files []string, err error) {
	if root, err = RepoRoot(); err != nil {
		return "", nil, err
	}
	if files, err = filepath.Glob(filepath.Join(root, "steps", "*", "action.yml")); err != nil {
		return "", nil, err
	}
	return root, append(files, filepath.Join(root, "action.yml")), nil
}

// Steps are the steps whose actions are docker container actions.
func Steps(t testing.TB) []string {
	t.Helper()
	_, files, err := actionFiles()
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if actionImage.Match(data) {
			steps = append(steps, filepath.Base(filepath.Dir(f)))
		}
	}
	if len(steps) == 0 {
		t.Fatal("no docker container action under steps/")
	}
	return steps
}

// Actions copies gitship's GitHub actions, and only those, into a new
// directory that stands for the gitship/gitship repository: act's
// --local-repository reads an action from it instead of cloning. Each
// step's action runs images[step] (from LoadImages) instead of the
// ghcr.io image it names, as a release pins its actions to digests: so
// tests of two checkouts on one engine do not run each other's images.
func Actions(t testing.TB, images map[string]string) string {
	t.Helper()
	root, files, err := actionFiles()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		step := filepath.Base(filepath.Dir(f))
		if ref, ok := images[step]; ok {
			data = actionImage.ReplaceAll(data, []byte("${1}"+ref))
		} else if actionImage.Match(data) {
			t.Fatalf("%s: no image loaded for step %s", f, step)
		}
		rel, _ := filepath.Rel(root, f)
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// StepImages builds the step images as `make images` does (tools/imagegen,
// OCI layouts, no daemon), for the engine's platform only, into a new
// directory, and returns it: DIR/gitship-STEP per step. GITSHIP_ACT_IMAGES
// names a directory built already (e.g. dist/images after `make images`)
// instead.
func StepImages(t testing.TB, steps []string) string {
	t.Helper()
	if dir := os.Getenv("GITSHIP_ACT_IMAGES"); dir != "" {
		return dir
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "./tools/imagegen", "-version", "act-test", "-out", dir,
		"-platforms", "linux/"+runtime.GOARCH, "-steps", strings.Join(steps, ","))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./tools/imagegen: %v\n%s", err, out)
	}
	return dir
}

// LoadImages pushes each step's OCI layout (dir/gitship-STEP) to the
// registry at registryHost (plain HTTP on loopback), has the engine at
// engineHost pull it from there, and tags it by its digest,
// gitship-act-test/gitship-STEP:DIGEST, the image Actions makes the
// step's action run. It returns those names by step. act finds them in
// the engine and pulls nothing (act --pull=false).
func LoadImages(t testing.TB, engineHost, registryHost, dir string, steps []string) map[string]string {
	t.Helper()
	c, err := client.New(client.WithHost(engineHost))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	refs := map[string]string{}
	for _, step := range steps {
		p, err := layout.FromPath(filepath.Join(dir, "gitship-"+step))
		if err != nil {
			t.Fatalf("the image of %s: %v", step, err)
		}
		idx, err := p.ImageIndex()
		if err != nil {
			t.Fatalf("the image of %s: %v", step, err)
		}
		// The layout holds one index, the multi-platform image.
		manifest, err := idx.IndexManifest()
		if err != nil || len(manifest.Manifests) != 1 {
			t.Fatalf("the layout of %s holds %d images, want 1 (%v)", step, len(manifest.Manifests), err)
		}
		digest := manifest.Manifests[0].Digest
		img, err := idx.ImageIndex(digest)
		if err != nil {
			t.Fatalf("the image of %s: %v", step, err)
		}
		via := registryHost + "/gitship/gitship-" + step + "@" + digest.String()
		ref, err := name.ParseReference(via, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(ref, img); err != nil {
			t.Fatalf("push %s: %v", via, err)
		}
		res, err := c.ImagePull(ctx, via, client.ImagePullOptions{})
		if err != nil {
			t.Fatalf("engine: pull %s: %v", via, err)
		}
		err = res.Wait(ctx)
		res.Close()
		if err != nil {
			t.Fatalf("engine: pull %s: %v", via, err)
		}
		target := "gitship-act-test/gitship-" + step + ":" + digest.Hex[:16]
		if _, err := c.ImageTag(ctx, client.ImageTagOptions{Source: via, Target: target}); err != nil {
			t.Fatalf("engine: tag %s as %s: %v", via, target, err)
		}
		refs[step] = target
	}
	return refs
}

// Result is how an act run ended.
type Result struct {
	// Code is act's exit code: 0 when every job succeeded.
	Code int
	// Output is act's log, stdout and stderr together, in order.
	Output string
}

// Options are an act run's.
type Options struct {
	// Dir is the repository act runs in (its git checkout).
	Dir string
	// Workflow is the workflow file, relative to Dir.
	Workflow string
	// Event is the event that triggers it, e.g. "push".
	Event string
	// JobImage is the job containers' image (ubuntu-latest's), in the
	// engine already.
	JobImage string
	// EngineHost is the engine's address, e.g. unix:///run/docker.sock.
	EngineHost string
	// Actions maps owner/repo@ref to a directory act reads those actions
	// from instead of cloning them (--local-repository).
	Actions map[string]string
	// Vars and Secrets are the workflow's vars and secrets contexts.
	Vars, Secrets map[string]string
	// Actor is github.actor.
	Actor string
	// Timeout ends act when the run takes longer (default 15 minutes):
	// a test that hangs fails instead.
	Timeout time.Duration
}

// Run runs act and returns how it ended. act pulls nothing
// (--pull=false: every image must be in the engine), fetches no action
// (--action-offline-mode, with Actions for the ones a workflow uses), and
// reads no user configuration (HOME is a new directory, with an .actrc
// naming the job image).
func Run(t testing.TB, bin string, o Options) Result {
	t.Helper()
	home := t.TempDir()
	platform := "ubuntu-latest=" + o.JobImage
	if err := os.WriteFile(filepath.Join(home, ".actrc"), []byte("-P "+platform+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{o.Event, "--workflows", o.Workflow,
		"-P", platform, "--pull=false", "--action-offline-mode",
		"--action-cache-path", filepath.Join(home, "actions"),
		"--no-cache-server",
		"--container-daemon-socket", o.EngineHost,
	}
	if o.Actor != "" {
		args = append(args, "--actor", o.Actor)
	}
	for k, v := range o.Actions {
		args = append(args, "--local-repository", k+"="+v)
	}
	for k, v := range o.Vars {
		args = append(args, "--var", k+"="+v)
	}
	for k, v := range o.Secrets {
		args = append(args, "--secret", k+"="+v)
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// act stops its containers on SIGINT, not on the default kill.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "DOCKER_HOST="+o.EngineHost, "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("act did not finish within %s:\n%s", o.Timeout, out.String())
	}
	res := Result{Output: out.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("act: %v\n%s", err, out.String())
	}
	return res
}

// JobImageRef is the image JobImage provides.
const JobImageRef = "gitship-test/act-job:2"

// JobImage makes sure the engine at host has JobImageRef, the job
// containers' image (ubuntu-latest's stand-in), and returns its name. It
// is imported from local files, nothing pulled: busybox-static with a
// link per applet, and the machine's own bash and docker CLI with the
// libraries they load: act runs a run: step with bash when the workflow
// names no shell, as GitHub's runners do, and a step may docker login as
// docker/login-action does on a runner (act mounts the engine's socket
// into the job container). There is no node in it, so JavaScript actions
// do not run; the workflows the tests run use none.
func JobImage(t testing.TB, host string) string {
	t.Helper()
	return enginetest.EnsureImage(t, host, JobImageRef, []string{"ENV PATH=/usr/local/bin:/usr/bin:/bin", `CMD ["sh"]`}, func() (io.Reader, error) {
		rootfs, err := jobRootfs()
		return bytes.NewReader(rootfs), err
	})
}

// lddPath is a library path in ldd's output: "name => /path (0x...)" or
// "/path (0x...)".
var lddPath = regexp.MustCompile(`(?m)^\s*(?:\S+ => )?(/\S+) \(0x`)

func jobRootfs() ([]byte, error) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return nil, errors.New("busybox is not installed (apt-get install busybox-static)")
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %v", busybox, err)
	}
	files := map[string]string{"bin/busybox": busybox}
	for _, prog := range []string{"bash", "docker"} {
		bin, err := exec.LookPath(prog)
		if err != nil {
			return nil, fmt.Errorf("%s is not installed", prog)
		}
		files["usr/bin/"+prog] = bin
		// A dynamic executable's libraries, by the paths it loads them
		// from; ldd fails on a static one, which needs none.
		libs, err := exec.Command("ldd", bin).Output()
		if err != nil {
			continue
		}
		for _, m := range lddPath.FindAllStringSubmatch(string(libs), -1) {
			files[strings.TrimPrefix(m[1], "/")] = m[1]
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	mkdir := func(d string, mode int64) error {
		if d == "." || dirs[d] {
			return nil
		}
		dirs[d] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: mode})
	}
	for _, d := range []string{"bin", "etc", "usr", "usr/bin", "usr/local", "usr/local/bin", "tmp", "root", "var", "var/run"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		if err := mkdir(d, mode); err != nil {
			return nil, err
		}
	}
	for name, src := range files {
		parts := strings.Split(name, "/")
		for i := 1; i < len(parts); i++ {
			if err := mkdir(strings.Join(parts[:i], "/"), 0o755); err != nil {
				return nil, err
			}
		}
		data, err := os.ReadFile(src) // follows links: the library itself
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" || applet == "bash" || strings.Contains(applet, "/") {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox"}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write([]byte(passwd)); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

const passwd = "root:x:0:0:root:/root:/bin/bash\n"
