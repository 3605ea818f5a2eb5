package verify

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// phase is where a target stands.
type phase int

const (
	waiting phase = iota
	ready
	failed
)

// status is one look at a target.
type status struct {
	phase phase
	// state is one line saying what the target is doing; a new line is
	// printed only when it changes.
	state string
	// revision is the commit a ready target reports ("" when it reports
	// none, as a HelmRelease from a chart repository).
	revision string
	// reason is a failure's message, the controller's own words.
	reason string
	// about are the objects whose events explain a failure.
	about []objectRef
}

// objectRef names an object, for its events.
type objectRef struct{ Kind, Namespace, Name string }

func (o objectRef) String() string { return o.Kind + " " + o.Namespace + "/" + o.Name }

// watchSpec is what to watch to learn that a target may have changed.
type watchSpec struct {
	gvr       schema.GroupVersionResource
	namespace string
	// name, when set, watches that object only; selector, labels.
	name, selector string
}

// target is one thing to wait for: a Flux or Argo CD object, or a
// workload's rollout.
type target interface {
	// ref names the object, for messages.
	ref() objectRef
	// check reads the object (and what it needs) once.
	check(ctx context.Context, c dynamic.Interface, m *matcher) (status, error)
	watches() []watchSpec
}

// condition is a metav1.Condition as Flux and Kubernetes write them.
type condition struct {
	Type, Status, Reason, Message string
	ObservedGeneration            int64
	found                         bool
}

func conditionOf(obj *unstructured.Unstructured, typ string) condition {
	list, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok || m["type"] != typ {
			continue
		}
		c := condition{Type: typ, found: true}
		c.Status, _ = m["status"].(string)
		c.Reason, _ = m["reason"].(string)
		c.Message, _ = m["message"].(string)
		c.ObservedGeneration = toInt64(m["observedGeneration"])
		return c
	}
	return condition{Type: typ, Status: "Unknown"}
}

func (c condition) String() string {
	if !c.found {
		return c.Type + " not reported yet"
	}
	s := c.Type + "=" + c.Status
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	if c.Message != "" {
		s += ": " + oneLine(c.Message)
	}
	return s
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

func nestedString(obj map[string]any, path ...string) string {
	s, _, _ := unstructured.NestedString(obj, path...)
	return s
}

func nestedInt(obj map[string]any, path ...string) int64 {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
	return toInt64(v)
}

// current says whether the controller has seen the object's current
// generation: status.observedGeneration and, when set, the condition's.
func current(obj *unstructured.Unstructured, c condition) bool {
	gen := obj.GetGeneration()
	if nestedInt(obj.Object, "status", "observedGeneration") < gen {
		return false
	}
	return c.ObservedGeneration == 0 || c.ObservedGeneration >= gen
}

// describe says how a reported revision stands to the one wanted.
func describe(m *matcher, rel relation, rev string) string {
	switch rel {
	case same:
		return rev
	case descendant:
		return rev + ", a descendant of " + short(m.want)
	case older:
		return rev + ", older than " + short(m.want)
	case unrelated:
		if m.repo == nil {
			return rev + ", not " + short(m.want)
		}
		return rev + ", not a descendant of " + short(m.want)
	}
	return rev
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// parseRef reads NAMESPACE/NAME.
func parseRef(flag, s string) (namespace, name string, err error) {
	ns, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || ns == "" || n == "" || strings.Contains(n, "/") {
		return "", "", fmt.Errorf("--%s %q: want NAMESPACE/NAME", flag, s)
	}
	return ns, n, nil
}
