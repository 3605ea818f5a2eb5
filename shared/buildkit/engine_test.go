package buildkit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/shared/buildkit"
	"github.com/gitship/gitship/shared/engine"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// engineBuilder connects to the test engine's own BuildKit.
func engineBuilder(t *testing.T) (*buildkit.Builder, *engine.Engine) {
	t.Helper()
	host := enginetest.Daemon(t)
	enginetest.BaseImage(t, host)
	e, err := engine.Connect(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Cleanup(context.Background())
		e.Close()
	})
	b, err := buildkit.ConnectEngine(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, e
}

// writeContext writes files (name → content) into a new directory.
func writeContext(t *testing.T, files map[string]string) string {
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

// logs collects every vertex name and log line of a build.
type logs struct {
	vertices map[string]bool // name → cached
	output   strings.Builder
}

func (l *logs) read(ch <-chan *client.SolveStatus) {
	l.vertices = map[string]bool{}
	for s := range ch {
		for _, v := range s.Vertexes {
			if v.Completed != nil || v.Cached {
				l.vertices[v.Name] = v.Cached
			}
		}
		for _, lg := range s.Logs {
			l.output.Write(lg.Data)
		}
	}
}

func (l *logs) cached(prefix string) (cached, found bool) {
	for name, c := range l.vertices {
		if strings.Contains(name, prefix) {
			return c, true
		}
	}
	return false, false
}

// TestEngineDockerfileFeatures builds, through the engine's BuildKit, the
// Dockerfile features the classic builder refuses, and reads the result
// back from a container.
func TestEngineDockerfileFeatures(t *testing.T) {
	b, e := engineBuilder(t)
	if !b.InEngine() || !strings.Contains(b.Name(), "Docker engine") {
		t.Errorf("builder %q: want the engine's own", b.Name())
	}
	dir := writeContext(t, map[string]string{
		"Dockerfile": "# syntax=docker.io/docker/dockerfile:1.99-unreachable\nFROM " + enginetest.BaseImageRef + `
ARG TARGETPLATFORM
RUN --mount=type=cache,target=/cache sh -c 'n=$(cat /cache/n 2>/dev/null || echo 0); echo $((n+1)) > /cache/n; echo run $((n+1)) for $TARGETPLATFORM > /runs'
RUN <<EOT
echo heredoc works > /hd
EOT
COPY --link a.txt /a.txt
COPY --from=extra b.txt /b.txt
`,
		"a.txt": "from the context\n",
	})
	extra := writeContext(t, map[string]string{"b.txt": "from a named context\n"})
	var l logs
	var notes strings.Builder
	res, err := b.Solve(context.Background(), buildkit.SolveOptions{
		ContextDir:    dir,
		BuildContexts: map[string]string{"extra": extra},
		Export:        buildkit.Export{Engine: true, Names: []string{"gitship-test/bk-features:1"}},
		Progress:      l.read,
		Log:           &notes,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Adopt(res.ImageID, false)
	if !strings.HasPrefix(res.ImageID, "sha256:") {
		t.Fatalf("image ID %q", res.ImageID)
	}
	if !strings.Contains(notes.String(), "built-in Dockerfile frontend") {
		t.Errorf("unreachable # syntax= image: want a note that the built-in frontend builds, got %q", notes.String())
	}
	var out strings.Builder
	code, _, err := e.Run(context.Background(), engine.RunOptions{Image: res.ImageID,
		Cmd: []string{"cat", "/runs", "/hd", "/a.txt", "/b.txt"}}, &out, &out)
	if err != nil || code != 0 {
		t.Fatalf("run: %d %v\n%s", code, err, out.String())
	}
	for _, want := range []string{"for linux/amd64", "heredoc works", "from the context", "from a named context"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("image's files %q: want %q", out.String(), want)
		}
	}
}

// TestEngineBuildError puts a failing RUN on its Dockerfile line.
func TestEngineBuildError(t *testing.T) {
	b, _ := engineBuilder(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + enginetest.BaseImageRef + "\nRUN echo fine\nRUN echo about to fail && exit 3\n",
	})
	var l logs
	_, err := b.Solve(context.Background(), buildkit.SolveOptions{ContextDir: dir, Progress: l.read})
	var be *buildkit.BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v (%T), want a *BuildError", err, err)
	}
	if be.Line != 3 || !strings.Contains(be.Error(), "exit code: 3") {
		t.Errorf("BuildError %q at line %d: want line 3 and the exit code", be.Error(), be.Line)
	}
	if !strings.Contains(l.output.String(), "about to fail") {
		t.Errorf("the failing RUN's output is not in the progress: %q", l.output.String())
	}
}
