package engine_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/shared/engine"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// setup connects to the test engine, with the base image in it, and
// returns the Engine (cleaned up after the test) and a raw client for
// looking behind its back.
func setup(t *testing.T, opts ...engine.Option) (*engine.Engine, *client.Client) {
	t.Helper()
	host := enginetest.Daemon(t)
	enginetest.BaseImage(t, host)
	e, err := engine.Connect(context.Background(), host, opts...)
	if err != nil {
		t.Fatalf("Connect(%q) = %v", host, err)
	}
	t.Cleanup(func() {
		if err := e.Cleanup(context.Background()); err != nil {
			t.Errorf("Cleanup() = %v", err)
		}
		e.Close()
	})
	c, err := client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return e, c
}

// contextDir writes a build context: file name → content.
func contextDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// app is a multi-stage build like examples/app: a build stage, a test
// stage whose CMD runs the tests and writes a JUnit report, a final stage.
var app = map[string]string{
	"Dockerfile": `ARG BASE=gitship-test/busybox:1
FROM ${BASE} AS build
WORKDIR /src
COPY . .
RUN mkdir -p /out && cat message.txt > /out/message && echo compiled
FROM build AS test
ENV TEST_MODE=container
CMD ["sh", "-c", "cat /out/message; echo mode=$TEST_MODE; echo to-stderr >&2; mkdir -p /reports; cat junit.xml > /reports/junit.xml; ln -s junit.xml /reports/latest.xml"]
FROM ${BASE}
COPY --from=build /out/message /message
CMD ["cat", "/message"]
`,
	"message.txt": "hello from the context\n",
	"junit.xml":   `<testsuites><testsuite name="app" tests="1"><testcase name="TestHello"/></testsuite></testsuites>` + "\n",
}

func build(t *testing.T, e *engine.Engine, o engine.BuildOptions) (id, log string) {
	t.Helper()
	var buf bytes.Buffer
	id, err := e.Build(context.Background(), o, &buf)
	if err != nil {
		t.Fatalf("Build(%+v) = %v\n%s", o, err, buf.String())
	}
	if !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("Build() = %q, want an image ID", id)
	}
	return id, buf.String()
}

func TestBuildTargetAndRun(t *testing.T) {
	e, _ := setup(t)
	dir := contextDir(t, app)
	testImage, log := build(t, e, engine.BuildOptions{ContextDir: dir, Target: "test"})
	for _, want := range []string{"Step 1/", "COPY . .", "compiled"} {
		if !strings.Contains(log, want) {
			t.Errorf("build log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "/message /message") {
		t.Errorf("the build went past the test stage:\n%s", log)
	}
	finalImage, _ := build(t, e, engine.BuildOptions{ContextDir: dir})

	tests := []struct {
		name       string
		o          engine.RunOptions
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name:       "the test stage's CMD",
			o:          engine.RunOptions{Image: testImage},
			wantStdout: "hello from the context\nmode=container\n",
			wantStderr: "to-stderr\n",
		},
		{
			name:       "a failing command",
			o:          engine.RunOptions{Image: testImage, Cmd: []string{"sh", "-c", "echo failing; exit 3"}},
			wantCode:   3,
			wantStdout: "failing\n",
		},
		{
			name:       "environment and working directory",
			o:          engine.RunOptions{Image: testImage, Cmd: []string{"sh", "-c", "echo $GREETING; pwd"}, Env: []string{"GREETING=hi"}, WorkingDir: "/tmp"},
			wantStdout: "hi\n/tmp\n",
		},
		{
			name:       "the final image",
			o:          engine.RunOptions{Image: finalImage},
			wantStdout: "hello from the context\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code, id, err := e.Run(context.Background(), tt.o, &stdout, &stderr)
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			if id == "" {
				t.Error("Run() returned no container ID")
			}
			if code != tt.wantCode || stdout.String() != tt.wantStdout || stderr.String() != tt.wantStderr {
				t.Errorf("Run() = %d, stdout %q, stderr %q; want %d, %q, %q",
					code, stdout.String(), stderr.String(), tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

// lineWriter calls seen with each complete line written to it.
type lineWriter struct {
	mu   sync.Mutex
	buf  string
	seen func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf += string(p)
	for {
		i := strings.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.seen(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

// TestRunStreamsLive cancels the run when the container's first line
// arrives: that only happens if output streams while the container runs,
// and then Run must stop the container and say it was cancelled.
func TestRunStreamsLive(t *testing.T) {
	e, c := setup(t)
	base := enginetest.BaseImage(t, enginetest.Daemon(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lineWriter{seen: func(l string) {
		if l == "ready" {
			cancel()
		}
	}}
	start := time.Now()
	_, id, err := e.Run(ctx, engine.RunOptions{Image: base, Cmd: []string{"sh", "-c", "echo ready; exec sleep 120"}}, out, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("Run() returned after %v: the output did not stream", d)
	}
	info, err := c.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Container.State.Running {
		t.Errorf("container %s still runs after the cancelled Run", id)
	}
}

func TestCopyOut(t *testing.T) {
	e, _ := setup(t)
	image, _ := build(t, e, engine.BuildOptions{ContextDir: contextDir(t, app), Target: "test"})
	code, id, err := e.Run(context.Background(), engine.RunOptions{Image: image}, nil, nil)
	if err != nil || code != 0 {
		t.Fatalf("Run() = %d, %v", code, err)
	}
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr error  // errors.Is
		errText string // or a part of the message
	}{
		{name: "a JUnit report", path: "/reports/junit.xml", want: app["junit.xml"]},
		{name: "a symbolic link to it", path: "/reports/latest.xml", want: app["junit.xml"]},
		{name: "a missing file", path: "/reports/nope.xml", wantErr: fs.ErrNotExist},
		{name: "a directory", path: "/reports", errText: "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := e.CopyOut(context.Background(), id, tt.path, &buf)
			switch {
			case tt.wantErr == nil && tt.errText == "":
				if err != nil || buf.String() != tt.want {
					t.Errorf("CopyOut(%s) = %v, %q; want %q", tt.path, err, buf.String(), tt.want)
				}
			case err == nil:
				t.Errorf("CopyOut(%s) = nil, want an error", tt.path)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("CopyOut(%s) = %v, want %v", tt.path, err, tt.wantErr)
			case !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.errText):
				t.Errorf("CopyOut(%s) = %v, want it to name the path and say %q", tt.path, err, tt.errText)
			}
		})
	}
}

func TestDockerignore(t *testing.T) {
	e, _ := setup(t)
	dir := contextDir(t, map[string]string{
		"Dockerfile":    "FROM gitship-test/busybox:1\nCOPY . /ctx/\n",
		".dockerignore": "*.env\nlogs\n!logs/keep.log\nDockerfile\n",
		"main.go":       "package main\n",
		"secret.env":    "TOKEN=hunter2\n",
		"logs/a.log":    "a\n",
		"logs/keep.log": "keep\n",
	})
	image, _ := build(t, e, engine.BuildOptions{ContextDir: dir})
	var out bytes.Buffer
	if _, _, err := e.Run(context.Background(), engine.RunOptions{Image: image, Cmd: []string{"sh", "-c", "find /ctx | sort"}}, &out, nil); err != nil {
		t.Fatal(err)
	}
	// The engine drops the Dockerfile itself from the context when
	// .dockerignore names it, after reading it.
	want := "/ctx\n/ctx/.dockerignore\n/ctx/logs\n/ctx/logs/keep.log\n/ctx/main.go\n"
	if out.String() != want {
		t.Errorf("files in the image:\n%s\nwant\n%s", out.String(), want)
	}
}

func TestBuildArgsAndLabels(t *testing.T) {
	e, c := setup(t)
	dir := contextDir(t, map[string]string{"Dockerfile": `FROM gitship-test/busybox:1
ARG GREETING=default
RUN echo "$GREETING" > /greeting
LABEL from.dockerfile=yes
`})
	labels := map[string]string{
		"org.opencontainers.image.revision": "0123456789abcdef",
		"org.opencontainers.image.source":   "https://example.com/app",
	}
	tag := "gitship-test/args:" + strings.ToLower(t.Name())
	id, _ := build(t, e, engine.BuildOptions{
		ContextDir: dir,
		BuildArgs:  map[string]string{"GREETING": "hello"},
		Labels:     labels,
		Platform:   "linux/" + runtime.GOARCH,
		CacheFrom:  []string{enginetest.BaseImageRef},
		Tags:       []string{tag},
	})
	img, err := e.InspectImage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range labels {
		if img.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, img.Labels[k], v)
		}
	}
	if img.Labels["from.dockerfile"] != "yes" {
		t.Errorf("labels = %v, the Dockerfile's LABEL is lost", img.Labels)
	}
	if !slices.Contains(img.RepoTags, tag) {
		t.Errorf("tags = %v, want %s", img.RepoTags, tag)
	}
	var out bytes.Buffer
	if _, _, err := e.Run(context.Background(), engine.RunOptions{Image: id, Cmd: []string{"cat", "/greeting"}}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != "hello\n" {
		t.Errorf("ARG GREETING = %q, want hello", out.String())
	}
	if err := e.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImageInspect(context.Background(), tag); !cerrdefs.IsNotFound(err) {
		t.Errorf("after Cleanup, ImageInspect(%s) = %v, want not found", tag, err)
	}
}

func TestBuildErrors(t *testing.T) {
	e, _ := setup(t)
	failing := "FROM gitship-test/busybox:1 AS build\nWORKDIR /src\nRUN echo step-output && \\\n    echo boom >&2 && exit 7\nFROM build AS test\n"
	tests := []struct {
		name       string
		files      map[string]string
		dockerfile string // relative to the context
		target     string
		check      func(t *testing.T, err error)
	}{
		{
			name:  "a failing RUN",
			files: map[string]string{"Dockerfile": failing},
			check: func(t *testing.T, err error) {
				var be *engine.BuildError
				if !errors.As(err, &be) || !errors.Is(err, engine.ErrBuildFailed) {
					t.Fatalf("Build() = %v, want a *BuildError", err)
				}
				// The builder interleaves stdout and stderr in no fixed order.
				output := slices.Sorted(slices.Values(be.Output))
				if be.Line != 3 || be.Code != 7 || !strings.HasPrefix(be.Instruction, "RUN echo step-output") ||
					!slices.Equal(output, []string{"boom", "step-output"}) {
					t.Errorf("Build() = %#v, want line 3, code 7, the RUN and its output", be)
				}
				for _, want := range []string{"Dockerfile:3: RUN echo step-output", "returned a non-zero code: 7", "\n    boom", "\n    step-output"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("Build() = %q, want it to contain %q", err, want)
					}
				}
			},
		},
		{
			name:       "a missing Dockerfile",
			files:      map[string]string{"main.go": "package main\n"},
			dockerfile: "build/Dockerfile.prod",
			check: func(t *testing.T, err error) {
				if !errors.Is(err, engine.ErrDockerfileNotFound) || !strings.Contains(err.Error(), filepath.Join("build", "Dockerfile.prod")) {
					t.Errorf("Build() = %v, want ErrDockerfileNotFound naming the path", err)
				}
			},
		},
		{
			name:   "an unknown target",
			files:  map[string]string{"Dockerfile": failing},
			target: "tset",
			check: func(t *testing.T, err error) {
				var te *engine.TargetError
				if !errors.As(err, &te) || !errors.Is(err, engine.ErrUnknownTarget) {
					t.Fatalf("Build() = %v, want a *TargetError", err)
				}
				if !strings.Contains(err.Error(), `target stage "tset" is not in `) || !strings.HasSuffix(err.Error(), `its stages are "build", "test"`) {
					t.Errorf("Build() = %q", err)
				}
			},
		},
		{
			name:  "a Dockerfile the parser refuses",
			files: map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nCOPY\n"},
			check: func(t *testing.T, err error) {
				if err == nil || !strings.Contains(err.Error(), "parse ") || !strings.Contains(err.Error(), "Dockerfile") {
					t.Errorf("Build() = %v, want a parse error naming the Dockerfile", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := contextDir(t, tt.files)
			o := engine.BuildOptions{ContextDir: dir, Target: tt.target}
			if tt.dockerfile != "" {
				o.Dockerfile = filepath.Join(dir, tt.dockerfile)
			}
			var log bytes.Buffer
			id, err := e.Build(context.Background(), o, &log)
			if id != "" {
				t.Errorf("Build() = %q, want no image", id)
			}
			tt.check(t, err)
		})
	}
}

func TestConnectUnreachable(t *testing.T) {
	tests := []struct {
		name       string
		host       string
		dockerHost string // DOCKER_HOST
		wantHost   string
		wantSource string
	}{
		{name: "given", host: "unix:///nonexistent/gitship.sock", wantHost: "/nonexistent/gitship.sock", wantSource: "(given)"},
		{name: "from DOCKER_HOST", dockerHost: "unix:///nonexistent/env.sock", wantHost: "/nonexistent/env.sock", wantSource: "(DOCKER_HOST)"},
		{name: "refused tcp", host: "tcp://127.0.0.1:1", wantHost: "tcp://127.0.0.1:1", wantSource: "(given)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", tt.dockerHost)
			e, err := engine.Connect(context.Background(), tt.host)
			if err == nil {
				e.Close()
				t.Fatalf("Connect(%q) = nil, want an error", tt.host)
			}
			var ce *engine.ConnectError
			if !errors.Is(err, engine.ErrNoEngine) || !errors.As(err, &ce) {
				t.Fatalf("Connect(%q) = %v, want a *ConnectError", tt.host, err)
			}
			for _, want := range []string{tt.wantHost, tt.wantSource, "DOCKER_HOST", "/var/run/docker.sock", "podman.sock"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Connect(%q) = %q, want it to contain %q", tt.host, err, want)
				}
			}
		})
	}
}

// labelled is app with a LABEL of the test's own after each FROM. Every
// image its builds make, intermediate ones too, inherits the label, and
// none shares a layer with another test's build: the cleanup tests judge
// only those (labelledImages), whatever else uses the engine meanwhile.
func labelled(t *testing.T) (files map[string]string, label string) {
	t.Helper()
	label = "gitship.test." + strings.ToLower(t.Name()) + "=" + strings.ToLower(rand.Text())
	files = maps.Clone(app)
	files["Dockerfile"] = regexp.MustCompile(`(?m)^FROM .*$`).ReplaceAllString(app["Dockerfile"], "$0\nLABEL "+label)
	t.Cleanup(func() { removeLabelled(t, label) })
	return files, label
}

// labelledImages is the set of images, intermediate ones included, that
// carry label.
func labelledImages(t *testing.T, c *client.Client, label string) map[string]bool {
	t.Helper()
	res, err := c.ImageList(context.Background(), client.ImageListOptions{All: true, Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, img := range res.Items {
		set[img.ID] = true
	}
	return set
}

// removeLabelled removes what a test's builds left, children before their
// parents: an image with children is a conflict until a later round.
func removeLabelled(t *testing.T, label string) {
	t.Helper()
	c, err := client.New(client.WithHost(enginetest.Daemon(t)), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 20 {
		left := labelledImages(t, c, label)
		if len(left) == 0 {
			return
		}
		for id := range left {
			removeImage(t, c, id)
		}
	}
	t.Errorf("images labelled %s are left after 20 rounds of removal: %v", label, labelledImages(t, c, label))
}

func TestCleanup(t *testing.T) {
	_, c := setup(t) // the engine, base image and raw client
	ctx := context.Background()
	files, label := labelled(t)
	tag := "gitship-test/cleanup:" + label[strings.Index(label, "=")+1:]
	dir := contextDir(t, files)
	failDir := contextDir(t, map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nLABEL " + label + "\nRUN echo partial > /p\nRUN exit 1\n"})

	// What an earlier run left in the build cache: the build stage, made by
	// an engine never cleaned up. The builds below take it from the cache,
	// and Cleanup must leave it there.
	pre, err := engine.Connect(ctx, enginetest.Daemon(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pre.Close()
	build(t, pre, engine.BuildOptions{ContextDir: dir, Target: "build"})
	before := labelledImages(t, c, label)
	if len(before) < 3 {
		t.Fatalf("the build stage made %d images (%v), want its layers", len(before), before)
	}

	e, err := engine.Connect(ctx, enginetest.Daemon(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var logs bytes.Buffer
	testImage, err := e.Build(ctx, engine.BuildOptions{ContextDir: dir, Target: "test", Tags: []string{tag + "-test"}}, &logs)
	if err != nil {
		t.Fatal(err)
	}
	_, containerID, err := e.Run(ctx, engine.RunOptions{Image: testImage}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := e.Build(ctx, engine.BuildOptions{ContextDir: dir, Tags: []string{tag + "-kept"}, Keep: true}, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Build(ctx, engine.BuildOptions{ContextDir: failDir}, &logs); !errors.Is(err, engine.ErrBuildFailed) {
		t.Fatalf("Build(failing) = %v", err)
	}
	if !strings.Contains(logs.String(), "Using cache") {
		t.Fatalf("the builds did not take the build stage from the cache:\n%s", logs.String())
	}

	ours := labelledImages(t, c, label)
	for id := range before {
		delete(ours, id)
	}
	if !ours[testImage] || !ours[kept] || len(ours) < 5 {
		t.Fatalf("the builds made %d images (%v), want the test image, the kept one and their layers", len(ours), ours)
	}

	if err := e.Cleanup(ctx); err != nil {
		t.Fatalf("Cleanup() = %v", err)
	}
	if err := e.Cleanup(ctx); err != nil {
		t.Fatalf("Cleanup() again = %v", err)
	}

	if _, err := c.ContainerInspect(ctx, containerID, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("container %s after Cleanup: %v, want not found", containerID, err)
	}
	keptLayers := history(t, c, kept)
	after := labelledImages(t, c, label)
	for id := range ours {
		if after[id] && !keptLayers[id] {
			t.Errorf("image %s is left after Cleanup", id)
		}
	}
	if !after[kept] {
		t.Errorf("the kept image %s was removed", kept)
	}
	for id := range before {
		if !after[id] {
			t.Errorf("Cleanup removed %s, which was there before", id)
		}
	}
	if _, err := c.ImageInspect(ctx, "gitship-test/busybox:1"); err != nil {
		t.Errorf("the base image after Cleanup: %v", err)
	}
	if _, err := c.ImageInspect(ctx, tag+"-test"); !cerrdefs.IsNotFound(err) {
		t.Errorf("tag %s-test after Cleanup: %v, want not found", tag, err)
	}
}

func TestCleanupKeepBuildCache(t *testing.T) {
	e, c := setup(t, engine.KeepBuildCache())
	ctx := context.Background()
	files, _ := labelled(t)
	dir := contextDir(t, files)
	testImage, _ := build(t, e, engine.BuildOptions{ContextDir: dir, Target: "test"})
	if err := e.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImageInspect(ctx, testImage); !cerrdefs.IsNotFound(err) {
		t.Errorf("the test image %s after Cleanup: %v, want not found", testImage, err)
	}
	_, log := build(t, e, engine.BuildOptions{ContextDir: dir, Target: "test"})
	if !strings.Contains(log, "RUN mkdir -p /out") || !strings.Contains(log, "Using cache") || strings.Contains(log, "\ncompiled\n") {
		t.Errorf("the second build did not use the layers the first left:\n%s", log)
	}
}

func TestSaveImage(t *testing.T) {
	e, _ := setup(t)
	id, _ := build(t, e, engine.BuildOptions{ContextDir: contextDir(t, app)})
	rc, err := e.SaveImage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("no manifest.json in the saved image")
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name != "manifest.json" {
			continue
		}
		var manifest []struct{ Config string }
		if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
			t.Fatal(err)
		}
		if len(manifest) != 1 {
			t.Fatalf("manifest.json = %+v, want one image", manifest)
		}
		// docker 20.10 names the config <hex>.json, later ones blobs/sha256/<hex>.
		config := strings.TrimSuffix(filepath.Base(manifest[0].Config), ".json")
		if "sha256:"+config != id {
			t.Errorf("saved config %s, want %s: the image ID is its config digest", manifest[0].Config, id)
		}
		return
	}
}

// history is the set of local images an image is made of.
func history(t *testing.T, c *client.Client, id string) map[string]bool {
	t.Helper()
	res, err := c.ImageHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, h := range res.Items {
		set[h.ID] = true
	}
	return set
}

func removeImage(t *testing.T, c *client.Client, id string) {
	_, err := c.ImageRemove(context.Background(), id, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		t.Errorf("remove %s: %v", id, err)
	}
}

// TestBuildCancelled cancels a build while a RUN runs: Build says so, and
// the builder's container goes away (the engine removes it, ForceRemove).
func TestBuildCancelled(t *testing.T) {
	e, c := setup(t)
	dir := contextDir(t, map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nRUN echo started && sleep 120\n"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log strings.Builder
	out := &lineWriter{seen: func(l string) {
		log.WriteString(l + "\n")
		if l == "started" {
			cancel()
		}
	}}
	if _, err := e.Build(ctx, engine.BuildOptions{ContextDir: dir}, out); !errors.Is(err, context.Canceled) {
		t.Fatalf("Build() = %v, want context.Canceled", err)
	}
	m := regexp.MustCompile(`(?m)^ ---> Running in ([0-9a-f]{12})$`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no builder container in the log:\n%s", log.String())
	}
	// The engine removes it after the cancelled request: wait for that.
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	wait := c.ContainerWait(wctx, m[1], client.ContainerWaitOptions{Condition: container.WaitConditionRemoved})
	select {
	case <-wait.Result:
	case err := <-wait.Error:
		if !cerrdefs.IsNotFound(err) { // not found: gone already
			t.Fatalf("builder container %s: %v", m[1], err)
		}
	}
}
