package verify

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

var digest = "sha256:" + strings.Repeat("d4", 32)

// rollout is a Deployment at generation 2 with its current ReplicaSet and
// pods; edit changes them before the look.
func rollout(image string, podStatus []map[string]any, depStatus map[string]any) []runtime.Object {
	labels := map[string]any{"app": "shop"}
	dep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "shop", "namespace": "ns", "generation": int64(2), "uid": "dep-uid",
			"annotations": map[string]any{"deployment.kubernetes.io/revision": "2"}},
		"spec": map[string]any{"replicas": int64(len(podStatus)), "selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": image}}}}},
		"status": depStatus,
	}}
	rs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "ReplicaSet",
		"metadata": map[string]any{"name": "shop-2", "namespace": "ns", "uid": "rs-uid", "labels": labels,
			"annotations":     map[string]any{"deployment.kubernetes.io/revision": "2"},
			"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop", "uid": "dep-uid"}}},
		"spec": map[string]any{"template": map[string]any{
			"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": image}}}}},
	}}
	old := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "shop-1-old", "namespace": "ns", "labels": labels,
			"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "shop-1", "uid": "old-rs"}}},
		"status": map[string]any{"containerStatuses": []any{map[string]any{"name": "app",
			"state": map[string]any{"waiting": map[string]any{"reason": "CrashLoopBackOff"}}}}},
	}}
	out := []runtime.Object{dep, rs, old}
	for i, st := range podStatus {
		out = append(out, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "shop-2-" + string(rune('a'+i)), "namespace": "ns", "labels": labels,
				"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "shop-2", "uid": "rs-uid"}}},
			"status": map[string]any{"containerStatuses": []any{st}},
		}})
	}
	return out
}

func running(imageID string) map[string]any {
	return map[string]any{"name": "app", "ready": true, "imageID": imageID, "state": map[string]any{"running": map[string]any{}}}
}

func TestDeployment(t *testing.T) {
	image := "registry.example/shop@" + digest
	complete := map[string]any{"observedGeneration": int64(2), "replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(2)}
	for _, tt := range []struct {
		name       string
		objs       []runtime.Object
		noRevision bool
		digest     string
		phase      phase
		state      string
	}{
		{name: "complete with the digest", digest: digest, phase: ready, state: "rolled out, 2 of 2 replicas available, running d4d4",
			objs: rollout(image, []map[string]any{running("docker-pullable://registry.example/shop@" + digest), running(image)}, complete)},
		{name: "complete, no revision annotation", digest: digest, noRevision: true, phase: ready,
			objs: rollout(image, []map[string]any{running(image), running(image)}, complete)},
		{name: "complete without a digest asked", phase: ready, state: "rolled out, 2 of 2",
			objs: rollout("shop:latest", []map[string]any{running("x"), running("y")}, complete)},
		{name: "template at another image", digest: digest, phase: waiting, state: "its pod template does not run d4d4d4d4d4d4 yet: shop:1",
			objs: rollout("shop:1", []map[string]any{running("x")}, complete)},
		{name: "not observed yet", digest: digest, phase: waiting, state: "generation 2 not seen",
			objs: rollout(image, []map[string]any{running(image)}, map[string]any{"observedGeneration": int64(1)})},
		{name: "updating", digest: digest, phase: waiting, state: "1 of 2 replicas updated",
			objs: rollout(image, []map[string]any{running(image), running(image)},
				map[string]any{"observedGeneration": int64(2), "replicas": int64(3), "updatedReplicas": int64(1)})},
		{name: "old replicas left", phase: waiting, state: "1 old replicas pending termination",
			objs: rollout(image, []map[string]any{running(image), running(image)},
				map[string]any{"observedGeneration": int64(2), "replicas": int64(3), "updatedReplicas": int64(2)})},
		{name: "pods run another digest", digest: digest, phase: waiting, state: "1 of 2 pods run d4d4",
			objs: rollout(image, []map[string]any{running(image), running("registry.example/shop@sha256:" + strings.Repeat("0", 64))}, complete)},
		{name: "image pull failure", digest: digest, phase: failed, state: "container app: ImagePullBackOff: Back-off pulling image",
			objs: rollout(image, []map[string]any{running(image), {"name": "app",
				"state": map[string]any{"waiting": map[string]any{"reason": "ImagePullBackOff", "message": "Back-off pulling image \"" + image + "\""}}}},
				map[string]any{"observedGeneration": int64(2), "replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(1)})},
		{name: "progress deadline", phase: failed, state: "Progressing (ProgressDeadlineExceeded)",
			objs: rollout(image, []map[string]any{running(image)}, map[string]any{"observedGeneration": int64(2),
				"conditions": []any{map[string]any{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
					"message": `ReplicaSet "shop-2" has timed out progressing.`}}})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.noRevision {
				// As a test driver may leave it: the current
				// ReplicaSet is then the one with the template's images.
				unstructured.RemoveNestedField(tt.objs[0].(*unstructured.Unstructured).Object, "metadata", "annotations")
			}
			d := deployment{namespace: "ns", name: "shop", digest: tt.digest}
			st, err := d.check(context.Background(), fakeClient(tt.objs...), nil)
			if err != nil {
				t.Fatalf("check = %v", err)
			}
			if st.phase != tt.phase || !strings.Contains(st.state, tt.state) {
				t.Errorf("check = phase %d, state %q; want phase %d, state with %q", st.phase, st.state, tt.phase, tt.state)
			}
		})
	}
}

func TestParseInputs(t *testing.T) {
	if _, err := parseDigest("shop:1"); err == nil {
		t.Error(`parseDigest("shop:1") = nil error`)
	}
	if d, err := parseDigest("ghcr.io/acme/shop@" + digest); err != nil || d != digest {
		t.Errorf("parseDigest = %q, %v", d, err)
	}
	if _, _, err := parseWorkload("ns/StatefulSet/db"); err == nil || !strings.Contains(err.Error(), "only Deployment") {
		t.Errorf("parseWorkload(StatefulSet) = %v", err)
	}
	if ns, name, err := parseWorkload("shop/deploy/web"); err != nil || ns != "shop" || name != "web" {
		t.Errorf("parseWorkload = %q %q %v", ns, name, err)
	}
	if _, _, err := parseRef("flux-kustomization", "apps"); err == nil {
		t.Error(`parseRef("apps") = nil error`)
	}
	if _, err := parseRevision("main"); err == nil {
		t.Error(`parseRevision("main") = nil error`)
	}
}
