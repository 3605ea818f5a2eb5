package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/steptest"
)

// withoutBuildKit serves the test engine's API on a socket of its own,
// except the endpoints of its BuildKit, which answer 404 as they do on
// Podman's Docker-compatible API and on engines before 18.09.
func withoutBuildKit(t *testing.T) string {
	t.Helper()
	host := enginetest.Daemon(t)
	sock := strings.TrimPrefix(host, "unix://")
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: "http", Host: "engine"}) },
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}},
		FlushInterval: -1,
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/grpc") || strings.HasSuffix(r.URL.Path, "/session") {
			http.Error(w, `{"message":"page not found"}`, http.StatusNotFound)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	path := filepath.Join(t.TempDir(), "engine.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + path
}

// TestClassicFallback: an engine that serves no BuildKit API builds with
// its classic builder, and the log says why; a Dockerfile that needs
// BuildKit fails there on its line, and an input that needs BuildKit is a
// usage error.
func TestClassicFallback(t *testing.T) {
	enginetest.BaseImage(t, enginetest.Daemon(t))
	env := map[string]string{"DOCKER_HOST": withoutBuildKit(t)}

	ws, _ := repo(t, map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nRUN echo classic > /built\n"}, "")
	res := steptest.Run(t, binary, ws, env, "--output", "oci:out")
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "Builder: the engine's classic builder, because the engine at "+env["DOCKER_HOST"]+" serves no BuildKit API") {
		t.Errorf("the log does not say which builder ran and why:\n%s", res.Stdout)
	}

	ws, _ = repo(t, map[string]string{"Dockerfile": "FROM gitship-test/busybox:1\nRUN <<EOT\necho heredoc\nEOT\n"}, "")
	res = steptest.Run(t, binary, ws, env)
	if res.Code != 1 || !strings.Contains(res.Stdout+res.Stderr, "Dockerfile:2: RUN with a heredoc needs BuildKit") {
		t.Errorf("a heredoc on the classic builder: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}

	res = steptest.Run(t, binary, ws, env, "--secret", "id=x,env=PATH")
	if res.Code != 2 || !strings.Contains(res.Stderr, "serves no BuildKit API") || !strings.Contains(res.Stderr, "--builder") {
		t.Errorf("--secret without BuildKit: exit %d\n%s", res.Code, res.Stderr)
	}
}
