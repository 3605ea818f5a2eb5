package main

// End-to-end test of the built localcluster binary with the built
// gitship-verify: start a cluster, play the GitOps controller with
// reconcile, verify against it with the read-only kubeconfig, stop it.

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/kubecluster"
	"github.com/gitship/gitship/internal/steptest"
	"github.com/gitship/gitship/internal/testenv"
)

var localcluster, verify string

func TestMain(m *testing.M) {
	bin, cleanup, err := steptest.Build("localcluster")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	localcluster = bin
	verify = filepath.Join(filepath.Dir(bin), "gitship-verify")
	build := exec.Command("go", "build", "-o", verify, "../../steps/verify")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gitship-verify:", err)
		cleanup()
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func digest(s string) string { return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))) }

// The demo's sequence: start, verify (nothing applied yet: it times out),
// reconcile (verify then succeeds with the read-only kubeconfig), a new
// commit on main (verify of it times out at the old revision, as a stale
// one must not count), reconcile it with a new image (verify succeeds),
// then SIGTERM stops the cluster.
func TestStartReconcileVerifyStop(t *testing.T) {
	if _, err := kubecluster.KubeAPIServer(); err != nil {
		testenv.Unavailable(t, "localcluster: %v", err)
	}
	if _, err := kubecluster.Etcd(); err != nil {
		testenv.Unavailable(t, "localcluster: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "cluster")
	cmd := exec.Command(localcluster, "start", "--dir", dir)
	var log testenv.Log
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Signal(syscall.SIGTERM)
			<-exited
		}
	})
	server := waitReady(t, dir, exited, &log)
	if !strings.HasPrefix(server, "https://127.0.0.1:") {
		t.Fatalf("ready names %q, not a loopback server", server)
	}
	for _, f := range []string{"admin.kubeconfig", "verify.kubeconfig", "kube-apiserver.log", "etcd.log"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("start left no %s: %v", f, err)
		}
	}

	repo := gittest.Bare(t, map[string]string{"clusters/dev/hello/deployment.yaml": "kind: Deployment\n"}, "main")
	first := gittest.Head(t, repo, "main")
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "hello, world")
	}))
	defer endpoint.Close()
	image := func(tag string) string { return "127.0.0.1:5000/demo/hello@" + digest(tag) }

	second := ""
	for _, tt := range []struct {
		name      string
		reconcile []string // localcluster reconcile's arguments, none to skip it
		wantRC    int      // reconcile's exit code
		verify    func() (rev, img string)
		timeout   string
		wantCode  int
		want      string // in verify's output
	}{
		{name: "nothing applied yet", verify: func() (string, string) { return first, image("v1") },
			timeout: "4s", wantCode: 1, want: "timed out"},
		{name: "bad image", reconcile: []string{"--env", "dev", "--revision", first, "--image", "demo/hello:v1"}, wantRC: 2},
		{name: "reconciled", reconcile: []string{"--env", "dev", "--revision", first, "--image", image("v1")},
			verify: func() (string, string) { return first, image("v1") }, timeout: "1m", wantCode: 0, want: "3 right answers in a row"},
		{name: "stale revision", verify: func() (string, string) {
			second = commit(t, repo)
			return second, image("v2")
		}, timeout: "4s", wantCode: 1, want: "main@sha1:" + first},
		{name: "next commit reconciled", reconcile: []string{"--env", "dev", "--revision", "", "--image", image("v2")},
			verify: func() (string, string) { return second, image("v2") }, timeout: "1m", wantCode: 0, want: "rolled out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.reconcile != nil {
				args := append([]string{"reconcile", "--kubeconfig", filepath.Join(dir, "admin.kubeconfig")}, tt.reconcile...)
				if args[6] == "" {
					args[6] = second
				}
				res := steptest.Run(t, localcluster, t.TempDir(), nil, args...)
				if res.Code != tt.wantRC {
					t.Fatalf("reconcile %v: exit %d, want %d\n%s%s", tt.reconcile, res.Code, tt.wantRC, res.Stdout, res.Stderr)
				}
				if tt.wantRC == 0 && !strings.Contains(res.Stdout, "no Flux runs here") {
					t.Errorf("reconcile does not say it is a stand-in:\n%s", res.Stdout)
				}
				if tt.wantRC == 2 && !strings.Contains(res.Stderr, "--image") {
					t.Errorf("reconcile's usage error does not name --image:\n%s", res.Stderr)
				}
			}
			if tt.verify == nil {
				return
			}
			rev, img := tt.verify()
			ws := t.TempDir()
			outputs := filepath.Join(ws, "outputs.json")
			res := steptest.Run(t, verify, ws, nil, "--revision", rev, "--gitops-repo", repo,
				"--flux-kustomization", "flux-system/clusters-dev", "--workload", "dev/Deployment/hello",
				"--image", img, "--kubeconfig", filepath.Join(dir, "verify.kubeconfig"),
				"--url", endpoint.URL+"/", "--expect-body", "^hello, world",
				"--probe-interval", "100ms", "--timeout", tt.timeout, "--outputs-file", outputs)
			out := res.Stdout + res.Stderr
			if res.Code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Fatalf("verify %s: exit %d, want %d and %q:\n%s", rev[:12], res.Code, tt.wantCode, tt.want, out)
			}
			if tt.wantCode != 0 {
				return
			}
			var got map[string]string
			data, err := os.ReadFile(outputs)
			if err == nil {
				err = json.Unmarshal(data, &got)
			}
			if err != nil || got["revision"] != rev {
				t.Errorf("verify's outputs: %v %v, want revision %s", got, err, rev)
			}
		})
	}

	// SIGTERM stops kube-apiserver and etcd, and localcluster exits 0.
	stopped = true
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("localcluster after SIGTERM: %v\n%s", err, log.String())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("localcluster still running a minute after SIGTERM\n%s", log.String())
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	if resp, err := hc.Get(server + "/readyz"); err == nil {
		resp.Body.Close()
		t.Errorf("%s still answers after localcluster stopped", server)
	}
}

// waitReady waits for start's ready file and returns the server it names.
func waitReady(t *testing.T, dir string, exited chan error, log *testenv.Log) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "ready")); err == nil {
			return strings.TrimSpace(string(data))
		}
		select {
		case err := <-exited:
			t.Fatalf("localcluster start exited: %v\n%s", err, log.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("localcluster start not ready in 5 minutes\n%s", log.String())
		}
	}
}

// commit adds a commit on main in the bare repository and returns it.
func commit(t *testing.T, repo string) string {
	t.Helper()
	work := t.TempDir()
	gittest.Git(t, work, "clone", "--quiet", repo, ".")
	if err := os.WriteFile(filepath.Join(work, "clusters", "dev", "hello", "deployment.yaml"), []byte("kind: Deployment # v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gittest.Git(t, work, "commit", "--quiet", "-am", "v2")
	gittest.Git(t, work, "push", "--quiet", "origin", "main")
	return gittest.Head(t, repo, "main")
}
