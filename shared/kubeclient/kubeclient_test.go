package kubeclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func writeKubeconfig(t *testing.T, server, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	data := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: %q, insecure-skip-tls-verify: true}}
- {name: b, cluster: {server: "https://b.example.com"}}
users:
- {name: ci, user: {token: %q}}
contexts:
- {name: a, context: {cluster: a, user: ci}}
- {name: b, context: {cluster: b, user: ci}}
current-context: a
`, server, token)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A fake API server answering the two discovery reads, with a token.
func apiServer(t *testing.T) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, `{"kind":"Status","code":401}`, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/version":
			fmt.Fprint(w, `{"major":"1","minor":"37"}`)
		case "/apis/helm.toolkit.fluxcd.io":
			fmt.Fprint(w, `{"kind":"APIGroup","name":"helm.toolkit.fluxcd.io","versions":[{"groupVersion":"helm.toolkit.fluxcd.io/v2","version":"v2"},{"groupVersion":"helm.toolkit.fluxcd.io/v2beta2","version":"v2beta2"}],"preferredVersion":{"groupVersion":"helm.toolkit.fluxcd.io/v3","version":"v3"}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClient(t *testing.T) {
	srv := apiServer(t)
	ctx := context.Background()

	c, err := New(Options{Kubeconfig: writeKubeconfig(t, srv.URL, "good")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server != srv.URL || c.Context != "a" {
		t.Errorf("New = server %q context %q, want %q a", c.Server, c.Context, srv.URL)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
	// The preferred version is one not known: the first known one served.
	if v, err := c.Version(ctx, "helm.toolkit.fluxcd.io", []string{"v2", "v2beta2"}); err != nil || v != "v2" {
		t.Errorf("Version(helm) = %q, %v, want v2", v, err)
	}
	if _, err := c.Version(ctx, "argoproj.io", []string{"v1alpha1"}); !errors.Is(err, ErrNotServed) {
		t.Errorf("Version(argoproj.io) = %v, want ErrNotServed", err)
	}
	if _, err := c.Version(ctx, "helm.toolkit.fluxcd.io", []string{"v1"}); !errors.Is(err, ErrNotServed) || !strings.Contains(err.Error(), "[v2 v2beta2]") {
		t.Errorf("Version(helm v1) = %v, want ErrNotServed naming what is served", err)
	}

	refused, err := New(Options{Kubeconfig: writeKubeconfig(t, srv.URL, "bad")})
	if err != nil {
		t.Fatal(err)
	}
	var unreachable *UnreachableError
	if err := refused.Ping(ctx); !errors.As(err, &unreachable) || !strings.Contains(err.Error(), srv.URL+" (context a)") ||
		!strings.Contains(err.Error(), "401") {
		t.Errorf("Ping with a refused token = %v", err)
	}

	other, err := New(Options{Kubeconfig: writeKubeconfig(t, srv.URL, "good"), Context: "b"})
	if err != nil || other.Server != "https://b.example.com" || other.Context != "b" {
		t.Errorf("New(context b) = %+v, %v", other, err)
	}
	if _, err := New(Options{Kubeconfig: writeKubeconfig(t, srv.URL, "good"), Context: "c"}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("New(context c) = %v, want ErrConfig naming the context", err)
	}
	if _, err := New(Options{Kubeconfig: filepath.Join(t.TempDir(), "none")}); !errors.Is(err, ErrNoFile) {
		t.Errorf("New(missing file) = %v, want ErrNoFile", err)
	}
}

// A GKE kubeconfig, as gcloud container clusters get-credentials writes
// it, where gke-gcloud-auth-plugin is not installed: the token comes from
// Google's Application Default Credentials, here the metadata server of
// Cloud Build (a fake at GCE_METADATA_HOST).
func TestGKEWithoutPlugin(t *testing.T) {
	var asked atomic.Int32
	metadata := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" || !strings.HasPrefix(r.URL.Path, "/computeMetadata/v1/instance/service-accounts/default/token") {
			http.NotFound(w, r)
			return
		}
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"good","expires_in":3599,"token_type":"Bearer"}`)
	}))
	defer metadata.Close()
	t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(metadata.URL, "http://"))
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("CLOUDSDK_CONFIG", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no gke-gcloud-auth-plugin

	srv := apiServer(t)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	data := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- {name: gke, cluster: {server: %q, insecure-skip-tls-verify: true}}
users:
- name: gke
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin for use with kubectl
      provideClusterInfo: true
      interactiveMode: IfAvailable
contexts:
- {name: gke, context: {cluster: gke, user: gke}}
current-context: gke
`, srv.URL)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	if asked.Load() == 0 {
		t.Error("the metadata server was not asked for a token")
	}
}
