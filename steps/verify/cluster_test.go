package main

// The built binary against a real kube-apiserver and etcd on loopback
// (internal/kubetest), read with the read-only service account of
// docs/verify-rbac.yaml. No controller runs: each test plays Flux, Argo CD
// and the kubelet from a goroutine, writing .status through the API with
// delays, as they would.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/kubetest"
)

// history is a GitOps repository on disk with commits old, want and
// later on main, one after the other.
type history struct{ dir, old, want, later string }

func gitopsRepo(t *testing.T) history {
	t.Helper()
	bare := gittest.Bare(t, map[string]string{"apps/shop.yaml": "v0\n"}, "main")
	work := t.TempDir()
	gittest.Git(t, work, "clone", "--quiet", bare, ".")
	commit := func(content string) string {
		if err := os.WriteFile(filepath.Join(work, "apps", "shop.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		gittest.Git(t, work, "commit", "--quiet", "-am", content)
		gittest.Git(t, work, "push", "--quiet", "origin", "main")
		return strings.TrimSpace(gittest.Git(t, work, "rev-parse", "HEAD"))
	}
	return history{dir: bare, old: commit("v1\n"), want: commit("v2\n"), later: commit("v3\n")}
}

// change is one status a controller writes, after a delay.
type change struct {
	after  time.Duration
	gvr    schema.GroupVersionResource
	name   string
	status map[string]any
	// do, when set, runs instead of writing status (a rollout, an event).
	do func(ctx context.Context) error
}

// play writes the steps in order from a goroutine, as controllers would
// while the step waits; a write that fails fails the test.
func play(t *testing.T, c *kubetest.Cluster, ns string, steps []change) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for _, s := range steps {
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.after):
			}
			var err error
			if s.do != nil {
				err = s.do(ctx)
			} else {
				_, err = kubetest.PatchStatus(ctx, c, s.gvr, ns, s.name, s.status)
			}
			if err != nil && ctx.Err() == nil {
				t.Errorf("controller: %v", err)
				return
			}
		}
	}()
}

// flux is a Kustomization's status as kustomize-controller writes it.
func flux(gen int64, applied, attempted, ready, reason, message string) map[string]any {
	st := map[string]any{
		"observedGeneration": gen,
		"conditions":         []any{kubetest.Condition("Ready", ready, reason, message, gen)},
	}
	if applied != "" {
		st["lastAppliedRevision"] = "main@sha1:" + applied
	}
	if attempted != "" {
		st["lastAttemptedRevision"] = "main@sha1:" + attempted
	}
	return st
}

func succeeded(rev string) map[string]any {
	return flux(1, rev, rev, "True", "ReconciliationSucceeded", "Applied revision: main@sha1:"+rev)
}

func progressing(applied, attempted string) map[string]any {
	return flux(1, applied, attempted, "Unknown", "Progressing", "Reconciliation in progress")
}

// digestOf is a fake image digest, the same for the same name.
func digestOf(name string) string {
	return "sha256:" + strings.Repeat(fmt.Sprintf("%02x", len(name)), 32)
}

func runOn(t *testing.T, c *kubetest.Cluster, args ...string) (res stepResult) {
	t.Helper()
	r, out, summary := run(t, nil, append([]string{"--kubeconfig", c.ReadOnlyKubeconfig}, args...)...)
	return stepResult{r.Code, r.Stdout, r.Stderr, out, summary}
}

type stepResult struct {
	code           int
	stdout, stderr string
	outputs        map[string]string
	summary        string
}

func (r stepResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s\nsummary:\n%s", r.code, r.stdout, r.stderr, r.summary)
}

// noRepeats fails t when the log says the same thing twice in a row: one
// line per change of state, never one per look.
func noRepeats(t *testing.T, log string) {
	t.Helper()
	lines := strings.Split(log, "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] != "" && lines[i] == lines[i-1] {
			t.Errorf("line %d repeats %q:\n%s", i, lines[i], log)
		}
	}
}

// The whole way: Flux first reports the previous commit Ready, then
// reconciles ours; the Deployment rolls out the pinned digest; the
// endpoint answers 503 twice, then right. Exit 0, with the outputs and a
// summary, and one line per state.
func TestDeploySucceeds(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	ns := c.Namespace(t)
	repo := gitopsRepo(t)
	image := "127.0.0.1:5000/shop@" + digestOf("shop-v2")
	kubetest.Create(t, c, ns, kubetest.Kustomization("apps"))
	if _, err := kubetest.RollOut(context.Background(), c, ns, kubetest.Workload{Name: "shop", Image: "127.0.0.1:5000/shop@" + digestOf("v1"), Replicas: 2}); err != nil {
		t.Fatal(err)
	}
	var probes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if probes.Add(1) <= 2 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	defer srv.Close()

	play(t, c, ns, []change{
		{after: 0, gvr: kubetest.KustomizationGVR, name: "apps", status: succeeded(repo.old)},
		{after: 400 * time.Millisecond, gvr: kubetest.KustomizationGVR, name: "apps", status: progressing(repo.old, repo.want)},
		{after: 400 * time.Millisecond, gvr: kubetest.KustomizationGVR, name: "apps", status: succeeded(repo.want)},
		{after: 300 * time.Millisecond, do: func(ctx context.Context) error {
			_, err := kubetest.RollOut(ctx, c, ns, kubetest.Workload{Name: "shop", Image: image, Replicas: 2})
			return err
		}},
		{after: 300 * time.Millisecond, do: func(ctx context.Context) error {
			_, err := kubetest.RolloutComplete(ctx, c, ns, "shop")
			return err
		}},
	})
	res := runOn(t, c, "--revision", repo.want, "--gitops-repo", repo.dir, "--flux-kustomization", ns+"/apps",
		"--workload", ns+"/Deployment/shop", "--image", image, "--url", srv.URL+"/healthz", "--expect-json", "status=ok",
		"--probe-interval", "100ms", "--timeout", "1m")
	if res.code != 0 {
		t.Fatal(res)
	}
	for _, want := range []string{
		"Kustomization " + ns + "/apps: Ready=True (ReconciliationSucceeded): Applied revision: main@sha1:" + repo.old + "; applied main@sha1:" + repo.old + ", older than " + repo.want[:12] + "\n",
		"Kustomization " + ns + "/apps: Ready at main@sha1:" + repo.want + "\n",
		"Deployment " + ns + "/shop: rolled out, 2 of 2 replicas available, running " + digestOf("shop-v2")[7:19] + "\n",
		"GET " + srv.URL + "/healthz: 503 Service Unavailable, want 200; trying again with back-off\n",
		"GET " + srv.URL + "/healthz: 3 right answers in a row",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, res)
		}
	}
	noRepeats(t, res.stdout)
	if res.outputs["revision"] != repo.want || res.outputs["ready-at"] == "" || res.outputs["duration"] == "" || res.outputs["probe-latency-p50"] == "" {
		t.Errorf("outputs = %v", res.outputs)
	}
	if _, err := time.Parse(time.RFC3339, res.outputs["ready-at"]); err != nil {
		t.Errorf("ready-at: %v", err)
	}
	for _, want := range []string{"| Kustomization " + ns + "/apps | Ready at main@sha1:" + repo.want, "| Deployment " + ns + "/shop | rolled out",
		"| " + srv.URL + "/healthz | ok | 5 | 2 |"} {
		if !strings.Contains(res.summary, want) {
			t.Errorf("summary lacks %q\n%s", want, res)
		}
	}
}

// A later commit that contains ours counts, with the repository: the
// revision output is the one the cluster runs. Argo CD, read through the
// Kubernetes API, the same way.
func TestDescendantCounts(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	ns := c.Namespace(t)
	repo := gitopsRepo(t)
	kubetest.Create(t, c, ns, kubetest.Kustomization("apps"))
	kubetest.Create(t, c, ns, kubetest.Application("shop"))
	play(t, c, ns, []change{
		{gvr: kubetest.KustomizationGVR, name: "apps", status: succeeded(repo.later)},
		{after: 200 * time.Millisecond, gvr: kubetest.ApplicationGVR, name: "shop", status: map[string]any{
			"sync": map[string]any{"status": "OutOfSync", "revision": repo.old}, "health": map[string]any{"status": "Healthy"}}},
		{after: 300 * time.Millisecond, gvr: kubetest.ApplicationGVR, name: "shop", status: map[string]any{
			"sync": map[string]any{"status": "Synced", "revision": repo.later}, "health": map[string]any{"status": "Progressing"}}},
		{after: 300 * time.Millisecond, gvr: kubetest.ApplicationGVR, name: "shop", status: map[string]any{
			"sync": map[string]any{"status": "Synced", "revision": repo.later}, "health": map[string]any{"status": "Healthy"}}},
	})
	res := runOn(t, c, "--revision", repo.want, "--gitops-repo", repo.dir, "--flux-kustomization", ns+"/apps",
		"--argocd-application", ns+"/shop", "--timeout", "1m")
	if res.code != 0 || res.outputs["revision"] != repo.later {
		t.Fatal(res)
	}
	for _, want := range []string{
		"Kustomization " + ns + "/apps: Ready at main@sha1:" + repo.later + ", a descendant of " + repo.want[:12],
		"Application " + ns + "/shop: sync Synced to " + repo.later + ", a descendant of " + repo.want[:12] + ", health Progressing",
		"Application " + ns + "/shop: Synced to " + repo.later + ", a descendant of " + repo.want[:12] + ", Healthy",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, res)
		}
	}
	noRepeats(t, res.stdout)

	// Without the repository, only the commit itself counts.
	res = runOn(t, c, "--revision", repo.want, "--flux-kustomization", ns+"/apps", "--timeout", "2s")
	if res.code != 1 || !strings.Contains(res.stderr, "applied main@sha1:"+repo.later+", not "+repo.want[:12]) {
		t.Error(res)
	}
}

// The controllers fail our commit: exit 1 with the object, the
// controller's own message and the last events.
func TestControllerFailure(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	repo := gitopsRepo(t)
	for _, tt := range []struct {
		name   string
		obj    *unstructured.Unstructured
		flag   string
		gvr    schema.GroupVersionResource
		status map[string]any
		event  kubetest.EventInfo
		want   string
	}{
		{name: "kustomization health check", obj: kubetest.Kustomization("apps"), flag: "--flux-kustomization", gvr: kubetest.KustomizationGVR,
			status: flux(1, repo.old, repo.want, "False", "HealthCheckFailed", "timeout waiting for: [Deployment/shop/shop status: 'InProgress']"),
			event:  kubetest.EventInfo{Type: "Warning", Reason: "HealthCheckFailed", Message: "health check failed after 5m0s", Component: "kustomize-controller"},
			want:   "Kustomization %s/apps failed: Ready=False (HealthCheckFailed): timeout waiting for: [Deployment/shop/shop status: 'InProgress'] (revision main@sha1:" + repo.want + ")"},
		{name: "helmrelease upgrade", obj: kubetest.HelmRelease("shop"), flag: "--flux-helmrelease", gvr: kubetest.HelmReleaseGVR,
			status: map[string]any{"observedGeneration": int64(1), "lastAttemptedRevision": "0.1.0+" + repo.want[:12],
				"conditions": []any{kubetest.Condition("Ready", "False", "UpgradeFailed", "Helm upgrade failed for release shop/shop with chart shop@0.1.0+"+repo.want[:12]+": context deadline exceeded", 1)}},
			event: kubetest.EventInfo{Type: "Warning", Reason: "UpgradeFailed", Message: "Helm upgrade failed: context deadline exceeded", Component: "helm-controller"},
			want:  "HelmRelease %s/shop failed: Ready=False (UpgradeFailed): Helm upgrade failed for release shop/shop"},
		{name: "argo degraded", obj: kubetest.Application("shop"), flag: "--argocd-application", gvr: kubetest.ApplicationGVR,
			status: map[string]any{"sync": map[string]any{"status": "Synced", "revision": repo.want},
				"health": map[string]any{"status": "Degraded", "message": "Deployment \"shop\" exceeded its progress deadline"}},
			event: kubetest.EventInfo{Reason: "ResourceUpdated", Message: "Updated health status: Progressing -> Degraded", Component: "argocd-application-controller", Type: "Normal"},
			want:  "Application %s/shop failed: health Degraded: Deployment \"shop\" exceeded its progress deadline (revision " + repo.want + ")"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := c.Namespace(t)
			obj := kubetest.Create(t, c, ns, tt.obj)
			play(t, c, ns, []change{
				{after: 300 * time.Millisecond, do: func(ctx context.Context) error {
					_, err := kubetest.Event(ctx, c, obj, tt.event)
					return err
				}},
				{gvr: tt.gvr, name: obj.GetName(), status: tt.status},
			})
			res := runOn(t, c, "--revision", repo.want, tt.flag, ns+"/"+obj.GetName(), "--timeout", "1m")
			want := fmt.Sprintf(tt.want, ns)
			if res.code != 1 || !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "last events:\n") ||
				!strings.Contains(res.stderr, tt.event.Message) {
				t.Errorf("want exit 1 with %q and the event %q\n%s", want, tt.event.Message, res)
			}
			if !strings.Contains(res.summary, "**Failed**") || !strings.Contains(res.summary, tt.event.Type+" "+tt.event.Reason) {
				t.Errorf("summary:\n%s", res.summary)
			}
			if len(res.outputs) != 0 {
				t.Errorf("outputs of a failed run: %v", res.outputs)
			}
		})
	}
}

// The new pods cannot pull the pinned image: exit 1 naming the pod, the
// kubelet's message and its events, while the old pods still run.
func TestImagePullFailure(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	ns := c.Namespace(t)
	ctx := context.Background()
	old := "127.0.0.1:5000/shop@" + digestOf("v1")
	image := "127.0.0.1:5000/shop@" + digestOf("broken-v2")
	if _, err := kubetest.RollOut(ctx, c, ns, kubetest.Workload{Name: "shop", Image: old}); err != nil {
		t.Fatal(err)
	}
	if _, err := kubetest.RolloutComplete(ctx, c, ns, "shop"); err != nil {
		t.Fatal(err)
	}
	play(t, c, ns, []change{{after: 500 * time.Millisecond, do: func(ctx context.Context) error {
		r, err := kubetest.RollOut(ctx, c, ns, kubetest.Workload{Name: "shop", Image: image, Pods: []kubetest.Pod{{Waiting: "ImagePullBackOff"}}})
		if err != nil {
			return err
		}
		_, err = kubetest.Event(ctx, c, r.Pods[0], kubetest.EventInfo{Reason: "Failed", Component: "kubelet",
			Message: "Failed to pull image \"" + image + "\": not found"})
		return err
	}}})
	res := runOn(t, c, "--workload", ns+"/Deployment/shop", "--image", image, "--timeout", "1m")
	if res.code != 1 || !strings.Contains(res.stderr, "Deployment "+ns+"/shop failed: pod shop-") ||
		!strings.Contains(res.stderr, "container app: ImagePullBackOff: Back-off pulling image") ||
		!strings.Contains(res.stderr, "Warning Failed (Pod "+ns+"/shop-") {
		t.Error(res)
	}
	if !strings.Contains(res.stdout, "Deployment "+ns+"/shop: its pod template does not run "+digestOf("broken-v2")[7:19]+" yet") {
		t.Errorf("the wait before the rollout is not said:\n%s", res)
	}
}

// An older commit Ready must not count: the step waits and times out,
// saying where it was stuck; so does a reconciliation that never ends.
func TestStuck(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	repo := gitopsRepo(t)
	for _, tt := range []struct {
		name   string
		status map[string]any
		args   []string
		stuck  string
	}{
		{name: "stale revision", status: succeeded(repo.old), args: []string{"--gitops-repo", repo.dir},
			stuck: "applied main@sha1:" + repo.old + ", older than " + repo.want[:12]},
		{name: "stale revision without the repository", status: succeeded(repo.old),
			stuck: "applied main@sha1:" + repo.old + ", not " + repo.want[:12]},
		{name: "never reconciled", status: progressing(repo.old, repo.want),
			stuck: "Ready=Unknown (Progressing): Reconciliation in progress; applied main@sha1:" + repo.old},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := c.Namespace(t)
			kubetest.Create(t, c, ns, kubetest.Kustomization("apps"))
			play(t, c, ns, []change{{gvr: kubetest.KustomizationGVR, name: "apps", status: tt.status}})
			start := time.Now()
			res := runOn(t, c, append([]string{"--revision", repo.want, "--flux-kustomization", ns + "/apps", "--timeout", "3s"}, tt.args...)...)
			want := "timed out after 3s waiting for Kustomization " + ns + "/apps, stuck at: "
			if res.code != 1 || !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, tt.stuck) {
				t.Errorf("want exit 1 with %q and %q\n%s", want, tt.stuck, res)
			}
			if !strings.Contains(res.summary, "**Timed out**") {
				t.Errorf("summary:\n%s", res.summary)
			}
			if time.Since(start) > time.Minute {
				t.Errorf("the step ran %s with --timeout 3s", time.Since(start))
			}
			noRepeats(t, res.stdout)
		})
	}
}

// A cluster whose API server is gone: exit 2, naming the server, before
// any wait.
func TestUnreachableCluster(t *testing.T) {
	c := kubetest.Start(t)
	dead := deadServer(t)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := kubetest.WriteKubeconfig(path, dead, c.CA, "token"); err != nil {
		t.Fatal(err)
	}
	r, _, _ := run(t, nil, "--kubeconfig", path, "--revision", strings.Repeat("ab", 20), "--flux-kustomization", "flux-system/apps")
	if r.Code != 2 || !strings.Contains(r.Stderr, "cannot reach the Kubernetes API server "+dead+" (context gitship-test)") {
		t.Errorf("exit %d\n%s", r.Code, r.Stderr)
	}
}

// A HelmRelease of a chart from the GitOps repository (reconcileStrategy
// Revision) names the commit in its chart version; one of a chart from a
// Helm repository names none, and counts once Ready at the generation the
// Kustomization's apply made. Both wait out the previous release first.
func TestHelmReleaseReady(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	ns := c.Namespace(t)
	repo := gitopsRepo(t)
	kubetest.Create(t, c, ns, kubetest.Kustomization("apps"))
	kubetest.Create(t, c, ns, kubetest.HelmRelease("shop"))
	kubetest.Create(t, c, ns, kubetest.HelmRelease("redis"))
	released := func(gen int64, chart string, version int64) map[string]any {
		return map[string]any{"observedGeneration": gen, "lastAttemptedRevision": chart,
			"history": []any{map[string]any{"name": "x", "namespace": ns, "version": version, "status": "deployed", "chartName": "x",
				"chartVersion": chart, "digest": "sha256:" + strings.Repeat("0", 64), "configDigest": "sha256:" + strings.Repeat("1", 64),
				"firstDeployed": "2026-01-01T00:00:00Z", "lastDeployed": "2026-01-01T00:00:00Z"}},
			"conditions": []any{kubetest.Condition("Ready", "True", "UpgradeSucceeded", "Helm upgrade succeeded for release x with chart x@"+chart, gen)}}
	}
	play(t, c, ns, []change{
		{gvr: kubetest.HelmReleaseGVR, name: "shop", status: released(1, "0.1.0+"+repo.old[:12], 1)},
		{gvr: kubetest.HelmReleaseGVR, name: "redis", status: released(1, "18.6.1", 1)},
		// The Kustomization's apply changes redis's values (generation 2,
		// not released yet), then reports the commit applied.
		{after: 300 * time.Millisecond, do: func(ctx context.Context) error {
			hr, err := c.Dynamic.Resource(kubetest.HelmReleaseGVR).Namespace(ns).Get(ctx, "redis", metav1.GetOptions{})
			if err != nil {
				return err
			}
			unstructured.SetNestedField(hr.Object, map[string]any{"replicas": int64(2)}, "spec", "values")
			_, err = c.Dynamic.Resource(kubetest.HelmReleaseGVR).Namespace(ns).Update(ctx, hr, metav1.UpdateOptions{})
			return err
		}},
		{gvr: kubetest.KustomizationGVR, name: "apps", status: succeeded(repo.want)},
		{after: 300 * time.Millisecond, gvr: kubetest.HelmReleaseGVR, name: "shop", status: released(1, "0.1.0+"+repo.want[:12], 2)},
		{after: 300 * time.Millisecond, gvr: kubetest.HelmReleaseGVR, name: "redis", status: released(2, "18.6.1", 2)},
	})
	res := runOn(t, c, "--revision", repo.want, "--gitops-repo", repo.dir, "--flux-kustomization", ns+"/apps",
		"--flux-helmrelease", ns+"/shop", "--flux-helmrelease", ns+"/redis", "--timeout", "1m")
	if res.code != 0 || res.outputs["revision"] != repo.want {
		t.Fatal(res)
	}
	for _, want := range []string{
		"HelmRelease " + ns + "/shop: Ready at 0.1.0+" + repo.want[:12] + "\n",
		"HelmRelease " + ns + "/redis: generation 2 not reconciled yet;",
		"HelmRelease " + ns + "/redis: Ready at generation 2, chart 18.6.1\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q\n%s", want, res)
		}
	}
	if strings.Contains(res.stdout, "HelmRelease "+ns+"/shop: Ready at 0.1.0+"+repo.old[:12]) {
		t.Errorf("the previous release counted:\n%s", res)
	}
	noRepeats(t, res.stdout)
}

// proxy forwards TCP connections on loopback to addr until closed, when
// it drops every connection it carries: an API server that goes away.
type proxy struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, addr string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) close() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// The API server goes away during the wait: the step says it cannot read
// the object, keeps trying, and at the time-out says that is where it was
// stuck (exit 1: the cluster was there when the step began).
func TestServerGoesAway(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	ns := c.Namespace(t)
	repo := gitopsRepo(t)
	kubetest.Create(t, c, ns, kubetest.Kustomization("apps"))
	if _, err := kubetest.PatchStatus(context.Background(), c, kubetest.KustomizationGVR, ns, "apps", succeeded(repo.old)); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, strings.TrimPrefix(c.Server, "https://"))
	server := "https://" + p.l.Addr().String()
	cfg := filepath.Join(t.TempDir(), "kubeconfig")
	if err := kubetest.WriteKubeconfig(cfg, server, c.CA, c.ReadOnly.BearerToken); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(time.Second, p.close)
	r, _, _ := run(t, nil, "--kubeconfig", cfg, "--revision", repo.want, "--flux-kustomization", ns+"/apps", "--timeout", "4s")
	want := "stuck at: cannot read it: cannot reach the Kubernetes API server " + server + " (context gitship-test)"
	if r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Errorf("exit %d, want 1 with %q\nstdout:\n%s\nstderr:\n%s", r.Code, want, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "applied main@sha1:"+repo.old+", not "+repo.want[:12]) {
		t.Errorf("the state before the server went away is not said:\n%s", r.Stdout)
	}
	noRepeats(t, r.Stdout)
}
