package main

// End-to-end tests of the built gitship-verify binary: bad input, a
// cluster nobody answers for, and probes against an HTTP server on
// loopback. The waits against a real kube-apiserver are in
// cluster_test.go.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
)

var binary string

func TestMain(m *testing.M) { steptest.Main(m, "gitship-verify", &binary) }

// run runs the binary in a fresh workspace with a local CI's environment
// and returns how it ended, its outputs and its summary.
func run(t *testing.T, env map[string]string, args ...string) (steptest.Result, map[string]string, string) {
	t.Helper()
	ws := t.TempDir()
	tmp := t.TempDir()
	full := steptest.CIEnv("github", ws, tmp)
	for k, v := range env {
		full[k] = v
	}
	res := steptest.Run(t, binary, ws, full, args...)
	outputs := map[string]string{}
	data, _ := os.ReadFile(filepath.Join(tmp, "output"))
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			outputs[k] = v
		}
	}
	summary, _ := os.ReadFile(filepath.Join(tmp, "summary"))
	return res, outputs, string(summary)
}

// deadServer is a URL on loopback where nothing listens.
func deadServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "https://" + addr
}

func kubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	data := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: ci
  user:
    token: not-a-real-token
contexts:
- name: dev
  context: {cluster: dev, user: ci}
current-context: dev
`, server)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const sha = "9c0d2a7b41e8f0c1d2e3f4a5b6c7d8e9f0a1b2c3"

// Input a user got wrong, or a cluster that cannot be used: exit 2, with
// the input or the server named, and no wait.
func TestBadInputExitsTwo(t *testing.T) {
	dead := deadServer(t)
	cfg := kubeconfig(t, dead)
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"nothing to verify", nil, nil, "nothing to verify"},
		{"no revision", nil, []string{"--flux-kustomization", "flux-system/apps"}, "--revision is required"},
		{"revision not a commit", nil, []string{"--revision", "main", "--flux-kustomization", "flux-system/apps"}, `--revision "main"`},
		{"reference without namespace", nil, []string{"--revision", sha, "--argocd-application", "shop"}, `--argocd-application "shop": want NAMESPACE/NAME`},
		{"statefulset", nil, []string{"--workload", "shop/StatefulSet/db"}, "only Deployment"},
		{"image by tag", nil, []string{"--workload", "shop/Deployment/web", "--image", "ghcr.io/acme/shop:1.0"}, "--image"},
		{"url scheme", nil, []string{"--url", "ftp://example.com"}, `--url "ftp://example.com"`},
		{"body regexp", nil, []string{"--url", "http://127.0.0.1:1/", "--expect-body", "("}, "--expect-body"},
		{"json expectation", nil, []string{"--url", "http://127.0.0.1:1/", "--expect-json", "status"}, "want PATH=VALUE"},
		{"missing kubeconfig", nil, []string{"--kubeconfig", "/nonexistent/kubeconfig", "--workload", "shop/Deployment/web"}, "/nonexistent/kubeconfig"},
		{"KUBECONFIG names no file", map[string]string{"KUBECONFIG": "/nonexistent/a:/nonexistent/b"}, []string{"--workload", "shop/Deployment/web"},
			"$KUBECONFIG /nonexistent/a:/nonexistent/b: no such file"},
		{"unknown context", nil, []string{"--kubeconfig", cfg, "--context", "prod", "--workload", "shop/Deployment/web"}, `"prod"`},
		{"unreachable cluster", nil, []string{"--kubeconfig", cfg, "--revision", sha, "--flux-kustomization", "flux-system/apps"},
			"cannot reach the Kubernetes API server " + dead + " (context dev)"},
		{"argocd server without token", nil, []string{"--revision", sha, "--argocd-application", "argocd/shop", "--argocd-server", "https://argocd.example.com"},
			"--argocd-server needs --argocd-token"},
		{"argocd server not a URL", nil, []string{"--revision", sha, "--argocd-application", "argocd/shop", "--argocd-server", "argocd", "--argocd-token", "tok-123456"},
			`--argocd-server "argocd"`},
		{"argocd server unreachable", nil, []string{"--revision", sha, "--argocd-application", "argocd/shop", "--argocd-server", dead, "--argocd-token", "tok-123456"},
			"cannot reach the Argo CD API server " + dead},
		{"unreachable cluster from KUBECONFIG", map[string]string{"KUBECONFIG": cfg}, []string{"--workload", "shop/Deployment/web"},
			"cannot reach the Kubernetes API server " + dead},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, _, _ := run(t, tt.env, tt.args...)
			if res.Code != 2 || !strings.Contains(res.Stderr, tt.want) {
				t.Errorf("exit %d, want 2 with %q in stderr:\n%s", res.Code, tt.want, res.Stderr)
			}
			steptest.NoInjection(t, "github", res)
		})
	}
}

// An endpoint that fails its first two probes, then answers: the step
// succeeds after 3 right answers in a row, says so in one line per
// change, and reports the latencies.
func TestProbeRecovers(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok","version":"1.2.3"}`)
	}))
	defer srv.Close()
	// From the environment, as a CI passes inputs: a URL with a comma in
	// its query stays one URL.
	u := srv.URL + "/healthz?checks=db,cache"
	res, out, summary := run(t, map[string]string{"GITSHIP_URL": u, "GITSHIP_EXPECT_JSON": "status=ok"},
		"--expect-body", `"version":"1\.2\.3"`, "--probe-interval", "100ms")
	if res.Code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
	if got := n.Load(); got != 5 {
		t.Errorf("%d probes, want 5 (2 wrong, 3 right)", got)
	}
	for _, want := range []string{
		"GET " + u + ": 503 Service Unavailable, want 200; trying again with back-off\n",
		"GET " + u + ": 200, right (",
		"GET " + u + ": 3 right answers in a row, median ",
	} {
		if strings.Count(res.Stdout, want) != 1 {
			t.Errorf("stdout does not say %q once:\n%s", want, res.Stdout)
		}
	}
	if out["probe-latency-p50"] == "" || !strings.HasSuffix(out["probe-latency-p50"], "s") {
		t.Errorf("outputs = %v, want probe-latency-p50", out)
	}
	if !strings.Contains(res.Stdout, "::warning title=verify::"+u+" answered wrong 2 times before 3 right answers in a row") {
		t.Errorf("no warning annotation for the wrong answers:\n%s", res.Stdout)
	}
	if !strings.Contains(summary, "| "+u+" | ok | 5 | 2 | ") {
		t.Errorf("summary:\n%s", summary)
	}
}

// An endpoint that never answers right: exit 1 when --timeout runs out,
// with the last wrong answer.
func TestProbeNeverRight(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"degraded"}`)
	}))
	defer srv.Close()
	res, out, summary := run(t, nil, "--url", srv.URL, "--expect-json", "status=ok", "--probe-interval", "100ms", "--timeout", "2s")
	if res.Code != 1 || !strings.Contains(res.Stderr, "JSON status is degraded, want ok") {
		t.Errorf("exit %d, want 1 with the wrong answer:\n%s", res.Code, res.Stderr)
	}
	if strings.Count(res.Stdout, "GET "+srv.URL+": JSON status is degraded") != 1 {
		t.Errorf("stdout does not say the wrong answer once:\n%s", res.Stdout)
	}
	if !strings.Contains(res.Stdout, "::error title=verify::"+srv.URL+" did not answer right 3 times in a row") {
		t.Errorf("no error annotation:\n%s", res.Stdout)
	}
	if len(out) != 0 {
		t.Errorf("outputs of a failed run: %v", out)
	}
	if !strings.Contains(summary, "failed: ") {
		t.Errorf("summary:\n%s", summary)
	}
}

// argoServer is a fake of the Argo CD API server's two reads: the
// version, and one Application (argocd/shop) whose status moves through
// states, one per read.
func argoServer(t *testing.T, token string, states ...map[string]any) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var reads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/version":
			fmt.Fprint(w, `{"Version":"v3.1.0+unknown"}`)
		case r.Header.Get("Authorization") != "Bearer "+token:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid session: token is malformed","code":16,"message":"invalid session: token is malformed"}`)
		case r.URL.Path == "/api/v1/applications/shop" && r.URL.Query().Get("appNamespace") == "argocd":
			i := min(int(reads.Add(1))-1, len(states)-1)
			app := map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
				"metadata": map[string]any{"name": "shop", "namespace": "argocd"}, "status": states[i]}
			json.NewEncoder(w).Encode(app)
		default:
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":"permission denied","code":7,"message":"permission denied"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &reads
}

func argoStatus(sync, rev, health string) map[string]any {
	return map[string]any{"sync": map[string]any{"status": sync, "revision": rev}, "health": map[string]any{"status": health}}
}

// Through the Argo CD API server, with no kubeconfig at all: the
// Application reaches the commit, Synced and Healthy; Degraded fails it;
// a refused token and an unknown application exit 2 and 1.
func TestArgoCDServer(t *testing.T) {
	const token = "argocd-t0ken-value"
	old := strings.Repeat("0a", 20)
	for _, tt := range []struct {
		name   string
		token  string
		states []map[string]any
		code   int
		want   string
	}{
		{"synced and healthy", token, []map[string]any{argoStatus("Synced", old, "Healthy"), argoStatus("OutOfSync", old, "Healthy"),
			argoStatus("Synced", sha, "Progressing"), argoStatus("Synced", sha, "Healthy")}, 0,
			"Application argocd/shop: Synced to " + sha + ", Healthy"},
		{"degraded", token, []map[string]any{argoStatus("Synced", old, "Healthy"), {"sync": map[string]any{"status": "Synced", "revision": sha},
			"health": map[string]any{"status": "Degraded", "message": "Back-off pulling image"}}}, 1,
			"Application argocd/shop failed: health Degraded: Back-off pulling image (revision " + sha + ")"},
		{"token refused", "wrong", []map[string]any{argoStatus("Synced", sha, "Healthy")}, 2,
			"refused --argocd-token (HTTP 401: invalid session: token is malformed)"},
		{"not found or not allowed", token, nil, 1,
			"waiting for Application argocd/other, stuck at: not found, or --argocd-token may not get it (Argo CD answers 403 for both)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := argoServer(t, token, tt.states...)
			app, timeout := "argocd/shop", "30s"
			if tt.states == nil {
				app, timeout = "argocd/other", "2s"
			}
			res, out, _ := run(t, map[string]string{"GITSHIP_ARGOCD_TOKEN": tt.token}, "--argocd-server", srv.URL,
				"--argocd-application", app, "--revision", sha, "--timeout", timeout)
			if res.Code != tt.code || !strings.Contains(res.Stdout+res.Stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", res.Code, tt.code, tt.want, res.Stdout, res.Stderr)
			}
			if tt.code == 0 && out["revision"] != sha {
				t.Errorf("outputs = %v", out)
			}
			steptest.NoSecret(t, res, nil, token)
		})
	}
}
