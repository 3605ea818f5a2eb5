package kubetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitship/gitship/internal/kubetest"
	"github.com/gitship/gitship/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	kubetest.Stop()
	os.Exit(code)
}

// The server answers /readyz and /version with the pinned version, to the
// admin kubeconfig as client-go reads it, and a test's namespace exists.
func TestStart(t *testing.T) {
	c := kubetest.Start(t)
	if c2 := kubetest.Start(t); c2 != c {
		t.Errorf("a second Start started another cluster: %s and %s", c.Server, c2.Server)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != c.Server || !strings.HasPrefix(c.Server, "https://127.0.0.1:") {
		t.Errorf("kubeconfig server %q, cluster %q", cfg.Host, c.Server)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if body := get(t, hc, c.Server+"/readyz"); body != "ok" {
		t.Fatalf("/readyz: %q", body)
	}
	body := get(t, hc, c.Server+"/version")
	want, err := kubetest.Version()
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Major, Minor, GitVersion string }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("/version: %v\n%s", err, body)
	}
	// A kube-apiserver built from the module without the release's
	// -ldflags reports gitVersion v0.0.0-master, and its major and minor
	// from the source: those must be the pinned version's.
	if !strings.HasPrefix(want, "v"+v.Major+"."+v.Minor+".") {
		t.Errorf("/version: %s.%s (%s), tools/kube-apiserver pins %s", v.Major, v.Minor, v.GitVersion, want)
	}

	ns := c.Namespace(t)
	if !strings.HasPrefix(ns, "teststart-") {
		t.Errorf("namespace %q is not named after the test", ns)
	}
	if _, err := c.Dynamic.Resource(kubetest.NamespaceGVR).Get(ctx, ns, metav1.GetOptions{}); err != nil {
		t.Errorf("get namespace %s: %v", ns, err)
	}
}

func get(t *testing.T, hc *http.Client, url string) string {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}

// The CRDs install and are served; a status written through PatchStatus
// reads back as written, and leaves the generation alone, for each kind,
// with or without a status subresource (Argo CD's Application has none).
func TestCRDsAndStatus(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	kubetest.InstallCRDs(t, c) // once per cluster: the second is a no-op
	ns := c.Namespace(t)
	ctx := context.Background()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	now := time.Now().UTC().Format(time.RFC3339)

	tests := []struct {
		obj    *unstructured.Unstructured
		gvr    schema.GroupVersionResource
		status map[string]any
		field  []string // a field of the status to read back
		want   string
		// generation after the patch: a kind with no status
		// subresource counts a status change as a new generation, as
		// Argo CD's Application's does when its controller writes it.
		generation int64
	}{
		{
			obj: kubetest.Kustomization("app"), gvr: kubetest.KustomizationGVR,
			status: map[string]any{
				"observedGeneration":  int64(1),
				"lastAppliedRevision": "main@sha1:" + commit,
				"conditions": []any{
					kubetest.Condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:"+commit, 1),
				},
			},
			field: []string{"lastAppliedRevision"}, want: "main@sha1:" + commit, generation: 1,
		},
		{
			obj: kubetest.HelmRelease("app"), gvr: kubetest.HelmReleaseGVR,
			// helm-controller's shape for a failed upgrade after a
			// successful install: the history's newest release first.
			status: map[string]any{
				"observedGeneration":         int64(1),
				"lastAttemptedGeneration":    int64(1),
				"lastAttemptedRevision":      "1.2.3",
				"lastAttemptedReleaseAction": "upgrade",
				"history": []any{
					helmSnapshot(2, "1.2.3", "failed"),
					helmSnapshot(1, "1.2.2", "superseded"),
				},
				"conditions": []any{
					kubetest.Condition("Ready", "False", "UpgradeFailed", "Helm upgrade failed for release app/app with chart app@1.2.3: context deadline exceeded", 1),
					kubetest.Condition("Released", "False", "UpgradeFailed", "Helm upgrade failed", 1),
				},
			},
			field: []string{"lastAttemptedRevision"}, want: "1.2.3", generation: 1,
		},
		{
			obj: kubetest.Application("app"), gvr: kubetest.ApplicationGVR,
			status: map[string]any{
				"sync":   map[string]any{"status": "Synced", "revision": commit},
				"health": map[string]any{"status": "Healthy"},
				"operationState": map[string]any{
					"phase":      "Succeeded",
					"message":    "successfully synced (all tasks run)",
					"operation":  map[string]any{"sync": map[string]any{"revision": commit}},
					"startedAt":  now,
					"finishedAt": now,
					"syncResult": map[string]any{"revision": commit},
				},
				"reconciledAt": now,
				"sourceType":   "Directory",
			},
			field: []string{"sync", "revision"}, want: commit, generation: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.obj.GetKind(), func(t *testing.T) {
			created := kubetest.Create(t, c, ns, tt.obj)
			if created.GetGeneration() != 1 {
				t.Errorf("generation %d after create", created.GetGeneration())
			}
			patched, err := kubetest.PatchStatus(ctx, c, tt.gvr, ns, "app", tt.status)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Dynamic.Resource(tt.gvr).Namespace(ns).Get(ctx, "app", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			v, _, _ := unstructured.NestedString(got.Object, append([]string{"status"}, tt.field...)...)
			if v != tt.want {
				t.Errorf("status.%s = %q, want %q", strings.Join(tt.field, "."), v, tt.want)
			}
			if got.GetGeneration() != tt.generation || patched.GetGeneration() != tt.generation {
				t.Errorf("generation %d after the status patch, want %d", got.GetGeneration(), tt.generation)
			}
			if want, ok := tt.status["conditions"].([]any); ok {
				conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
				if len(conds) != len(want) || conds[0].(map[string]any)["type"] != "Ready" {
					t.Errorf("status.conditions = %v", conds)
				}
			}
		})
	}

	// The CRD's schema holds for the status too: a history entry without
	// the fields helm-controller always writes is refused, as the real
	// API server refuses it.
	bad := helmSnapshot(3, "1.2.4", "deployed")
	delete(bad, "digest")
	_, err := kubetest.PatchStatus(ctx, c, kubetest.HelmReleaseGVR, ns, "app", map[string]any{"history": []any{bad}})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "digest") {
		t.Errorf("a history entry without digest: %v, want Invalid naming digest", err)
	}
}

// helmSnapshot is an entry of a HelmRelease's status.history, as
// helm-controller writes it.
func helmSnapshot(version int64, chartVersion, status string) map[string]any {
	at := time.Now().UTC().Format(time.RFC3339)
	return map[string]any{
		"name": "app", "namespace": "app", "version": version, "status": status,
		"chartName": "app", "chartVersion": chartVersion, "appVersion": chartVersion,
		"configDigest":  "sha256:" + strings.Repeat("c", 64),
		"digest":        "sha256:" + strings.Repeat(strconv.FormatInt(version, 10), 64),
		"firstDeployed": at, "lastDeployed": at,
	}
}

// The service account of docs/verify-rbac.yaml, applied as it is, can
// get, list and watch what verify reads, and cannot patch it, create it,
// or read Secrets.
func TestReadOnlyUser(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	ns := c.Namespace(t)
	ctx := context.Background()
	kubetest.Create(t, c, ns, kubetest.Kustomization("app"))
	kubetest.Create(t, c, ns, kubetest.Application("app"))
	if _, err := kubetest.RollOut(ctx, c, ns, kubetest.Workload{Name: "web", Image: "127.0.0.1:5000/web@sha256:" + strings.Repeat("a", 64)}); err != nil {
		t.Fatal(err)
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", c.ReadOnlyKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{
		{kubetest.KustomizationGVR, "app"},
		{kubetest.ApplicationGVR, "app"},
		{kubetest.DeploymentGVR, "web"},
		{kubetest.ReplicaSetGVR, ""},
		{kubetest.PodGVR, ""},
		{kubetest.EventGVR, ""},
	} {
		t.Run(tt.gvr.Resource, func(t *testing.T) {
			r := ro.Resource(tt.gvr).Namespace(ns)
			list, err := r.List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			w, err := r.Watch(ctx, metav1.ListOptions{ResourceVersion: list.GetResourceVersion()})
			if err != nil {
				t.Fatalf("watch: %v", err)
			}
			w.Stop()
			name := tt.name
			if name == "" {
				if len(list.Items) == 0 {
					return
				}
				name = list.Items[0].GetName()
			}
			if _, err := r.Get(ctx, name, metav1.GetOptions{}); err != nil {
				t.Fatalf("get %s: %v", name, err)
			}
			_, err = r.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
			if !kubetest.IsForbidden(err) {
				t.Errorf("patch %s as the read-only user: %v, want forbidden", name, err)
			}
		})
	}
	if _, err := ro.Resource(kubetest.KustomizationGVR).Namespace(ns).Create(ctx, kubetest.Kustomization("other"), metav1.CreateOptions{}); !kubetest.IsForbidden(err) {
		t.Errorf("create as the read-only user: %v, want forbidden", err)
	}
	if _, err := ro.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).Namespace(ns).List(ctx, metav1.ListOptions{}); !kubetest.IsForbidden(err) {
		t.Errorf("list secrets as the read-only user: %v, want forbidden", err)
	}
}

// RollOut makes a Deployment, its ReplicaSet and pods with the kubelet's
// status (digest, ImagePullBackOff, CrashLoopBackOff); a second image is
// a new generation and revision; RolloutComplete observes it; Event
// records an event about a pod.
func TestRollOut(t *testing.T) {
	c := kubetest.Start(t)
	ns := c.Namespace(t)
	ctx := context.Background()
	good := "127.0.0.1:5000/web@sha256:" + strings.Repeat("1", 64)
	bad := "127.0.0.1:5000/web@sha256:" + strings.Repeat("2", 64)

	r1, err := kubetest.RollOut(ctx, c, ns, kubetest.Workload{Name: "web", Image: good, Replicas: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Pods) != 2 {
		t.Fatalf("%d pods, want 2", len(r1.Pods))
	}
	for _, p := range r1.Pods {
		if id := containerStatus(t, p, "imageID"); id != good {
			t.Errorf("pod %s imageID %q, want %q", p.GetName(), id, good)
		}
		if phase, _, _ := unstructured.NestedString(p.Object, "status", "phase"); phase != "Running" {
			t.Errorf("pod %s phase %q", p.GetName(), phase)
		}
	}
	if ready, _, _ := unstructured.NestedInt64(r1.ReplicaSet.Object, "status", "readyReplicas"); ready != 2 {
		t.Errorf("replicaset readyReplicas %d, want 2", ready)
	}
	dep, err := kubetest.RolloutComplete(ctx, c, ns, "web")
	if err != nil {
		t.Fatal(err)
	}
	if og, _, _ := unstructured.NestedInt64(dep.Object, "status", "observedGeneration"); og != 1 || dep.GetGeneration() != 1 {
		t.Errorf("observedGeneration %d, generation %d, want 1 and 1", og, dep.GetGeneration())
	}

	r2, err := kubetest.RollOut(ctx, c, ns, kubetest.Workload{Name: "web", Image: bad, Replicas: 2, Pods: []kubetest.Pod{
		{Waiting: "ImagePullBackOff"},
		{Waiting: "CrashLoopBackOff", Restarts: 4},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Deployment.GetGeneration() != 2 {
		t.Errorf("generation %d after the new image, want 2", r2.Deployment.GetGeneration())
	}
	if rev := r2.ReplicaSet.GetAnnotations()["deployment.kubernetes.io/revision"]; rev != "2" {
		t.Errorf("replicaset revision %q, want 2", rev)
	}
	if rev := r2.Deployment.GetAnnotations()["deployment.kubernetes.io/revision"]; rev != "2" {
		t.Errorf("deployment revision %q, want 2", rev)
	}
	if owner := r2.ReplicaSet.GetOwnerReferences(); len(owner) != 1 || owner[0].UID != r1.Deployment.GetUID() {
		t.Errorf("replicaset owners %v", owner)
	}
	waiting := []struct{ reason, imageID string }{{"ImagePullBackOff", ""}, {"CrashLoopBackOff", bad}}
	for i, p := range r2.Pods {
		got, _, _ := unstructured.NestedString(firstContainer(t, p), "state", "waiting", "reason")
		if got != waiting[i].reason {
			t.Errorf("pod %s waiting reason %q, want %q", p.GetName(), got, waiting[i].reason)
		}
		if id := containerStatus(t, p, "imageID"); id != waiting[i].imageID {
			t.Errorf("pod %s imageID %q, want %q", p.GetName(), id, waiting[i].imageID)
		}
	}
	if ready, _, _ := unstructured.NestedInt64(r2.ReplicaSet.Object, "status", "readyReplicas"); ready != 0 {
		t.Errorf("replicaset readyReplicas %d, want 0", ready)
	}

	// A roll-back to the first image: its ReplicaSet again, under
	// revision 3; once complete, the failed ReplicaSet is scaled to zero
	// and its pods are gone.
	r3, err := kubetest.RollOut(ctx, c, ns, kubetest.Workload{Name: "web", Image: good, Replicas: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r3.ReplicaSet.GetName() != r1.ReplicaSet.GetName() || r3.ReplicaSet.GetAnnotations()["deployment.kubernetes.io/revision"] != "3" ||
		r3.Deployment.GetAnnotations()["deployment.kubernetes.io/revision"] != "3" || r3.Deployment.GetGeneration() != 3 {
		t.Errorf("roll-back: replicaset %s revision %q, deployment revision %q generation %d; want %s, 3, 3, 3",
			r3.ReplicaSet.GetName(), r3.ReplicaSet.GetAnnotations()["deployment.kubernetes.io/revision"],
			r3.Deployment.GetAnnotations()["deployment.kubernetes.io/revision"], r3.Deployment.GetGeneration(), r1.ReplicaSet.GetName())
	}
	if _, err := kubetest.RolloutComplete(ctx, c, ns, "web"); err != nil {
		t.Fatal(err)
	}
	old, err := c.Dynamic.Resource(kubetest.ReplicaSetGVR).Namespace(ns).Get(ctx, r2.ReplicaSet.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := unstructured.NestedInt64(old.Object, "spec", "replicas"); n != 0 {
		t.Errorf("the failed replicaset has %d replicas after the roll-back completed, want 0", n)
	}
	pods, err := c.Dynamic.Resource(kubetest.PodGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.GetName())
		if id := containerStatus(t, &p, "imageID"); id != good {
			t.Errorf("pod %s imageID %q after the roll-back, want %q", p.GetName(), id, good)
		}
	}
	if len(names) != 2 {
		t.Errorf("pods after the roll-back: %v, want the two of %s", names, r1.ReplicaSet.GetName())
	}

	at := time.Now().Add(-time.Minute)
	if _, err := kubetest.Event(ctx, c, r2.Pods[0], kubetest.EventInfo{Reason: "Failed", Message: "Error: ImagePullBackOff", Component: "kubelet", Time: at}); err != nil {
		t.Fatal(err)
	}
	events, err := c.Dynamic.Resource(kubetest.EventGVR).Namespace(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + r2.Pods[0].GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) != 1 {
		t.Fatalf("%d events about %s, want 1", len(events.Items), r2.Pods[0].GetName())
	}
	if e := events.Items[0].Object; e["reason"] != "Failed" || e["type"] != "Warning" || e["lastTimestamp"] != at.UTC().Format(time.RFC3339) {
		t.Errorf("event %v", e)
	}
}

func firstContainer(t *testing.T, pod *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(pod.Object, "status", "containerStatuses")
	if len(cs) != 1 {
		t.Fatalf("pod %s: %d container statuses", pod.GetName(), len(cs))
	}
	return cs[0].(map[string]any)
}

func containerStatus(t *testing.T, pod *unstructured.Unstructured, field string) string {
	t.Helper()
	s, _ := firstContainer(t, pod)[field].(string)
	return s
}

// An unreachable server: WriteKubeconfig names it, and client-go fails
// to connect, naming it.
func TestWriteKubeconfigUnreachable(t *testing.T) {
	c := kubetest.Start(t)
	l := strconv.Itoa(testenv.FreePort(t))
	path := t.TempDir() + "/kubeconfig"
	server := "https://127.0.0.1:" + l
	if err := kubetest.WriteKubeconfig(path, server, c.CA, "token"); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Resource(kubetest.NamespaceGVR).List(context.Background(), metav1.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+l) {
		t.Errorf("list against %s: %v", server, err)
	}
}

// Without a kube-apiserver, a test that starts a cluster skips, saying
// which binary is missing, and fails under GITSHIP_TEST_STRICT, as CI
// runs. The test binary runs TestStart again in a child process with
// GITSHIP_KUBE_APISERVER naming no file.
func TestUnavailable(t *testing.T) {
	if os.Getenv("KUBETEST_CHILD") != "" {
		t.Skip("in the child")
	}
	missing := filepath.Join(t.TempDir(), "no-kube-apiserver")
	for _, tt := range []struct {
		strict   string
		wantExit int
		want     string
	}{
		{"", 0, "--- SKIP: TestStart"},
		{"1", 1, "GITSHIP_TEST_STRICT is set"},
	} {
		t.Run("strict="+tt.strict, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestStart$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "KUBETEST_CHILD=1", "GITSHIP_KUBE_APISERVER="+missing, "GITSHIP_TEST_STRICT="+tt.strict)
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantExit || !strings.Contains(string(out), tt.want) || !strings.Contains(string(out), "GITSHIP_KUBE_APISERVER") {
				t.Errorf("exit %d, want %d and %q naming GITSHIP_KUBE_APISERVER:\n%s", code, tt.wantExit, tt.want, out)
			}
		})
	}
}
