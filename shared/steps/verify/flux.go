package verify

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// The API groups read, with the versions understood, newest first.
var (
	kustomizeGroup = "kustomize.toolkit.fluxcd.io"
	kustomizeVers  = []string{"v1", "v1beta2"}
	helmGroup      = "helm.toolkit.fluxcd.io"
	helmVers       = []string{"v2", "v2beta2", "v2beta1"}
	argoGroup      = "argoproj.io"
	argoVers       = []string{"v1alpha1"}
)

// custom is what every target reading one custom object shares.
type custom struct {
	gvr             schema.GroupVersionResource
	kind            string
	namespace, name string
}

func (o custom) ref() objectRef { return objectRef{o.kind, o.namespace, o.name} }

func (o custom) watches() []watchSpec {
	return []watchSpec{{gvr: o.gvr, namespace: o.namespace, name: o.name}}
}

// get reads the object; a missing one is (nil, nil).
func (o custom) get(ctx context.Context, c dynamic.Interface) (*unstructured.Unstructured, error) {
	obj, err := c.Resource(o.gvr).Namespace(o.namespace).Get(ctx, o.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// kustomization is a Flux Kustomization: ready when
// status.lastAppliedRevision names the commit (or a descendant) and Ready
// is True at the current generation; failed when Ready is False at the
// current generation for an attempt at that revision.
type kustomization struct{ custom }

func (k kustomization) check(ctx context.Context, c dynamic.Interface, m *matcher) (status, error) {
	obj, err := k.get(ctx, c)
	if obj == nil || err != nil {
		return status{state: "not found"}, err
	}
	readyC := conditionOf(obj, "Ready")
	applied := nestedString(obj.Object, "status", "lastAppliedRevision")
	attempted := nestedString(obj.Object, "status", "lastAttemptedRevision")
	rel := m.relate(ctx, applied)
	cur := current(obj, readyC)
	if rel.matches() && cur && readyC.Status == "True" {
		return status{phase: ready, state: "Ready at " + describe(m, rel, applied), revision: commitOf(applied)}, nil
	}
	if m.relate(ctx, attempted).matches() && cur && readyC.Status == "False" {
		return status{phase: failed, state: readyC.String(), reason: readyC.String() + " (revision " + attempted + ")",
			about: []objectRef{k.ref()}}, nil
	}
	return status{state: fluxState(obj, m, readyC, rel, applied, attempted)}, nil
}

func fluxState(obj *unstructured.Unstructured, m *matcher, readyC condition, rel relation, applied, attempted string) string {
	s := readyC.String()
	if suspended, _, _ := unstructured.NestedBool(obj.Object, "spec", "suspend"); suspended {
		s = "suspended; " + s
	}
	if !current(obj, readyC) {
		s = fmt.Sprintf("generation %d not reconciled yet; %s", obj.GetGeneration(), s)
	}
	if applied != "" {
		s += "; applied " + describe(m, rel, applied)
	} else {
		s += "; nothing applied yet"
	}
	if attempted != "" && attempted != applied {
		s += "; attempted " + attempted
	}
	return s
}

// helmRelease is a Flux HelmRelease: ready when the latest release in
// status.history (or lastAttemptedRevision) names the commit, or a
// descendant, and Ready is True at the current generation. A chart from a
// Helm repository names no commit ("1.2.3"): then Ready at the current
// generation is what counts, the generation the Kustomization that
// applied the commit set.
type helmRelease struct{ custom }

func (h helmRelease) check(ctx context.Context, c dynamic.Interface, m *matcher) (status, error) {
	obj, err := h.get(ctx, c)
	if obj == nil || err != nil {
		return status{state: "not found"}, err
	}
	readyC := conditionOf(obj, "Ready")
	cur := current(obj, readyC)
	attempted := nestedString(obj.Object, "status", "lastAttemptedRevision")
	released := latestRelease(obj)
	if released == "" {
		released = nestedString(obj.Object, "status", "lastAppliedRevision") // v2beta1
	}
	relReleased, relAttempted := m.relate(ctx, released), m.relate(ctx, attempted)
	byGeneration := relReleased == noCommit && relAttempted == noCommit
	switch {
	case cur && readyC.Status == "True" && (relReleased.matches() || byGeneration):
		st := status{phase: ready, state: "Ready at " + describe(m, relReleased, released), revision: commitOf(released)}
		if byGeneration {
			st.state = fmt.Sprintf("Ready at generation %d, chart %s", obj.GetGeneration(), released)
		}
		return st, nil
	case cur && readyC.Status == "False" && (relAttempted.matches() || byGeneration):
		return status{phase: failed, state: readyC.String(), reason: readyC.String() + " (chart " + attempted + ")",
			about: []objectRef{h.ref()}}, nil
	}
	return status{state: fluxState(obj, m, readyC, relReleased, released, attempted)}, nil
}

// latestRelease is the chart version of the newest entry of a v2
// HelmRelease's status.history.
func latestRelease(obj *unstructured.Unstructured) string {
	list, _, _ := unstructured.NestedSlice(obj.Object, "status", "history")
	var best map[string]any
	for _, item := range list {
		m, ok := item.(map[string]any)
		if ok && (best == nil || toInt64(m["version"]) > toInt64(best["version"])) {
			best = m
		}
	}
	if best == nil {
		return ""
	}
	v, _ := best["chartVersion"].(string)
	return v
}

// application is an Argo CD Application, read through the Kubernetes
// API: ready when status.sync.revision is the commit (or a descendant),
// sync is Synced and health Healthy; failed when health is Degraded at
// that revision, or the sync operation for it failed.
type application struct {
	custom
	// api, when set, is the Argo CD API server to read it through,
	// instead of the Kubernetes API.
	api *argoAPI
}

func (a application) watches() []watchSpec {
	if a.api != nil {
		return nil // read by polling the Argo CD API
	}
	return a.custom.watches()
}

func (a application) check(ctx context.Context, c dynamic.Interface, m *matcher) (status, error) {
	var obj *unstructured.Unstructured
	var err error
	if a.api != nil {
		obj, err = a.api.application(ctx, a.namespace, a.name)
		if errors.Is(err, errArgoHidden) {
			return status{state: err.Error()}, nil
		}
	} else {
		obj, err = a.get(ctx, c)
	}
	if obj == nil || err != nil {
		return status{state: "not found"}, err
	}
	o := obj.Object
	revs := []string{nestedString(o, "status", "sync", "revision")}
	if multi, ok, _ := unstructured.NestedStringSlice(o, "status", "sync", "revisions"); ok {
		revs = append(revs, multi...)
	}
	rev, rel := "", noCommit
	for _, r := range revs {
		if r == "" {
			continue
		}
		if x := m.relate(ctx, r); rev == "" || x.matches() {
			rev, rel = r, x
		}
		if rel.matches() {
			break
		}
	}
	sync := nestedString(o, "status", "sync", "status")
	health := nestedString(o, "status", "health", "status")
	healthMsg := nestedString(o, "status", "health", "message")
	phase := nestedString(o, "status", "operationState", "phase")
	opMsg := nestedString(o, "status", "operationState", "message")
	opRev := nestedString(o, "status", "operationState", "syncResult", "revision")
	if opRev == "" {
		opRev = nestedString(o, "status", "operationState", "operation", "sync", "revision")
	}
	switch {
	case rel.matches() && sync == "Synced" && health == "Healthy":
		return status{phase: ready, state: "Synced to " + describe(m, rel, rev) + ", Healthy", revision: commitOf(rev)}, nil
	case rel.matches() && health == "Degraded":
		reason := "health Degraded"
		if healthMsg != "" {
			reason += ": " + oneLine(healthMsg)
		}
		for _, msg := range argoConditions(obj) {
			reason += "; " + msg
		}
		return status{phase: failed, state: "Degraded", reason: reason + " (revision " + rev + ")", about: []objectRef{a.ref()}}, nil
	case (phase == "Failed" || phase == "Error") && m.relate(ctx, opRev).matches():
		return status{phase: failed, state: "sync " + phase, reason: "sync " + phase + ": " + oneLine(opMsg) + " (revision " + opRev + ")",
			about: []objectRef{a.ref()}}, nil
	}
	s := "sync " + orUnknown(sync)
	if rev != "" {
		s += " to " + describe(m, rel, rev)
	}
	s += ", health " + orUnknown(health)
	if phase != "" && phase != "Succeeded" {
		s += ", operation " + phase
	}
	return status{state: s}, nil
}

func argoConditions(obj *unstructured.Unstructured) []string {
	list, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	var out []string
	for _, item := range list {
		if m, ok := item.(map[string]any); ok {
			t, _ := m["type"].(string)
			msg, _ := m["message"].(string)
			out = append(out, t+": "+oneLine(msg))
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}
