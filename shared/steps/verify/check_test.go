package verify

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

// The state machine of each kind, one look at a time, against client-go's
// fake dynamic client; the built binary is tested against a real API
// server in steps/verify.

var (
	want  = strings.Repeat("a1", 20)
	other = strings.Repeat("b2", 20)
)

var (
	kustomizationGVR = schema.GroupVersionResource{Group: kustomizeGroup, Version: "v1", Resource: "kustomizations"}
	helmReleaseGVR   = schema.GroupVersionResource{Group: helmGroup, Version: "v2", Resource: "helmreleases"}
	applicationGVR   = schema.GroupVersionResource{Group: argoGroup, Version: "v1alpha1", Resource: "applications"}
)

func fakeClient(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		kustomizationGVR: "KustomizationList", helmReleaseGVR: "HelmReleaseList", applicationGVR: "ApplicationList",
		deploymentsGVR: "DeploymentList", replicaSetsGVR: "ReplicaSetList", podsGVR: "PodList", eventsGVR: "EventList",
	}, objs...)
}

func obj(apiVersion, kind, name string, generation int64, status map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": "ns", "generation": generation},
		"spec":     map[string]any{},
	}}
	if status != nil {
		u.Object["status"] = status
	}
	return u
}

func cond(typ, status, reason, message string, gen int64) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": message, "observedGeneration": gen}
}

func kustomizationObj(gen int64, status map[string]any) *unstructured.Unstructured {
	return obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "apps", gen, status)
}

func TestCheck(t *testing.T) {
	k := kustomization{custom{gvr: kustomizationGVR, kind: "Kustomization", namespace: "ns", name: "apps"}}
	h := helmRelease{custom{gvr: helmReleaseGVR, kind: "HelmRelease", namespace: "ns", name: "shop"}}
	a := application{custom{gvr: applicationGVR, kind: "Application", namespace: "ns", name: "shop"}, nil}
	readyAt := func(rev string, gen int64) map[string]any {
		return map[string]any{"observedGeneration": gen, "lastAppliedRevision": rev, "lastAttemptedRevision": rev,
			"conditions": []any{cond("Ready", "True", "ReconciliationSucceeded", "Applied revision: "+rev, gen)}}
	}
	for _, tt := range []struct {
		name   string
		target target
		obj    *unstructured.Unstructured
		phase  phase
		state  string // a part of the state line
		reason string // a part of a failure's reason
	}{
		{name: "kustomization missing", target: k, phase: waiting, state: "not found"},
		{name: "kustomization ready at the commit", target: k, obj: kustomizationObj(2, readyAt("main@sha1:"+want, 2)),
			phase: ready, state: "Ready at main@sha1:" + want},
		{name: "kustomization ready at a short prefix", target: k, obj: kustomizationObj(2, readyAt("main/"+want[:12], 2)),
			phase: ready},
		{name: "kustomization ready at another commit", target: k, obj: kustomizationObj(2, readyAt("main@sha1:"+other, 2)),
			phase: waiting, state: "applied main@sha1:" + other + ", not a1a1a1a1a1a1"},
		{name: "kustomization ready at an older generation", target: k, obj: kustomizationObj(3, readyAt("main@sha1:"+want, 2)),
			phase: waiting, state: "generation 3 not reconciled yet"},
		{name: "kustomization reconciling", target: k, obj: kustomizationObj(2, map[string]any{"observedGeneration": int64(2),
			"lastAppliedRevision": "main@sha1:" + other, "lastAttemptedRevision": "main@sha1:" + want,
			"conditions": []any{cond("Ready", "Unknown", "Progressing", "Reconciliation in progress", 2)}}),
			phase: waiting, state: "Ready=Unknown (Progressing): Reconciliation in progress"},
		{name: "kustomization failed at the commit", target: k, obj: kustomizationObj(2, map[string]any{"observedGeneration": int64(2),
			"lastAppliedRevision": "main@sha1:" + other, "lastAttemptedRevision": "main@sha1:" + want,
			"conditions": []any{cond("Ready", "False", "HealthCheckFailed", "Deployment/ns/shop status: 'Failed'", 2)}}),
			phase: failed, reason: "Ready=False (HealthCheckFailed): Deployment/ns/shop status: 'Failed' (revision main@sha1:" + want},
		{name: "kustomization failed at another commit waits", target: k, obj: kustomizationObj(2, map[string]any{"observedGeneration": int64(2),
			"lastAttemptedRevision": "main@sha1:" + other,
			"conditions":            []any{cond("Ready", "False", "BuildFailed", "kustomize build failed", 2)}}),
			phase: waiting, state: "Ready=False (BuildFailed): kustomize build failed; nothing applied yet; attempted main@sha1:" + other},

		{name: "helmrelease released the commit", target: h, obj: obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", "shop", 1, map[string]any{
			"observedGeneration": int64(1), "lastAttemptedRevision": "0.1.0+" + want[:12],
			"history": []any{
				map[string]any{"version": int64(1), "chartVersion": "0.1.0+" + other[:12], "status": "superseded"},
				map[string]any{"version": int64(2), "chartVersion": "0.1.0+" + want[:12], "status": "deployed"},
			},
			"conditions": []any{cond("Ready", "True", "UpgradeSucceeded", "Helm upgrade succeeded", 1)}}),
			phase: ready, state: "Ready at 0.1.0+" + want[:12]},
		{name: "helmrelease from a chart repository counts by generation", target: h, obj: obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", "shop", 4, map[string]any{
			"observedGeneration": int64(4), "lastAttemptedRevision": "6.5.4",
			"history":    []any{map[string]any{"version": int64(3), "chartVersion": "6.5.4", "status": "deployed"}},
			"conditions": []any{cond("Ready", "True", "UpgradeSucceeded", "Helm upgrade succeeded", 4)}}),
			phase: ready, state: "Ready at generation 4, chart 6.5.4"},
		{name: "helmrelease upgrade failed", target: h, obj: obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", "shop", 1, map[string]any{
			"observedGeneration": int64(1), "lastAttemptedRevision": "0.1.0+" + want[:12],
			"conditions": []any{cond("Ready", "False", "UpgradeFailed", "Helm upgrade failed: timed out waiting for the condition", 1)}}),
			phase: failed, reason: "UpgradeFailed"},

		{name: "application synced and healthy", target: a, obj: obj("argoproj.io/v1alpha1", "Application", "shop", 1, map[string]any{
			"sync": map[string]any{"status": "Synced", "revision": want}, "health": map[string]any{"status": "Healthy"}}),
			phase: ready, state: "Synced to " + want + ", Healthy"},
		{name: "application healthy at an older revision", target: a, obj: obj("argoproj.io/v1alpha1", "Application", "shop", 1, map[string]any{
			"sync": map[string]any{"status": "Synced", "revision": other}, "health": map[string]any{"status": "Healthy"}}),
			phase: waiting, state: "sync Synced to " + other + ", not a1a1a1a1a1a1, health Healthy"},
		{name: "application degraded", target: a, obj: obj("argoproj.io/v1alpha1", "Application", "shop", 1, map[string]any{
			"sync": map[string]any{"status": "Synced", "revision": want}, "health": map[string]any{"status": "Degraded", "message": "Deployment has timed out progressing"}}),
			phase: failed, reason: "health Degraded: Deployment has timed out progressing"},
		{name: "application sync failed", target: a, obj: obj("argoproj.io/v1alpha1", "Application", "shop", 1, map[string]any{
			"sync": map[string]any{"status": "OutOfSync", "revision": want}, "health": map[string]any{"status": "Healthy"},
			"operationState": map[string]any{"phase": "Failed", "message": "one or more objects failed to apply",
				"syncResult": map[string]any{"revision": want}}}),
			phase: failed, reason: "sync Failed: one or more objects failed to apply"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c *dynamicfake.FakeDynamicClient
			if tt.obj != nil {
				c = fakeClient(tt.obj)
			} else {
				c = fakeClient()
			}
			st, err := tt.target.check(context.Background(), c, &matcher{want: want})
			if err != nil {
				t.Fatalf("check = %v", err)
			}
			if st.phase != tt.phase || !strings.Contains(st.state, tt.state) || !strings.Contains(st.reason, tt.reason) {
				t.Errorf("check = phase %d, state %q, reason %q; want phase %d, state with %q, reason with %q",
					st.phase, st.state, st.reason, tt.phase, tt.state, tt.reason)
			}
		})
	}
}

func TestCommitOf(t *testing.T) {
	for _, tt := range []struct{ rev, want string }{
		{"main@sha1:" + want, want},
		{"refs/heads/main@sha1:" + want, want},
		{"main/" + want, want},
		{want, want},
		{"0.1.0+" + "abcdef012345", "abcdef012345"},
		{"6.5.4", ""},
		{"1.0.0+20240101", ""},
		{"latest@sha256:" + strings.Repeat("ab", 32), ""},
		{"", ""},
	} {
		if got := commitOf(tt.rev); got != tt.want {
			t.Errorf("commitOf(%q) = %q, want %q", tt.rev, got, tt.want)
		}
	}
}
