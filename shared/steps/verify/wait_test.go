package verify

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// syncBuffer is a log written by the waiter while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A controller moving a Kustomization through its states, from a
// goroutine: the waiter prints one line per state, however often it
// looks, and ends at the one that counts.
func TestWaitStates(t *testing.T) {
	k := kustomization{custom{gvr: kustomizationGVR, kind: "Kustomization", namespace: "ns", name: "apps"}}
	stale := map[string]any{"observedGeneration": int64(1), "lastAppliedRevision": "main@sha1:" + other, "lastAttemptedRevision": "main@sha1:" + other,
		"conditions": []any{cond("Ready", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:"+other, 1)}}
	progressing := map[string]any{"observedGeneration": int64(1), "lastAppliedRevision": "main@sha1:" + other, "lastAttemptedRevision": "main@sha1:" + want,
		"conditions": []any{cond("Ready", "Unknown", "Progressing", "Reconciliation in progress", 1)}}
	applied := map[string]any{"observedGeneration": int64(1), "lastAppliedRevision": "main@sha1:" + want, "lastAttemptedRevision": "main@sha1:" + want,
		"conditions": []any{cond("Ready", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:"+want, 1)}}
	failedSt := map[string]any{"observedGeneration": int64(1), "lastAppliedRevision": "main@sha1:" + other, "lastAttemptedRevision": "main@sha1:" + want,
		"conditions": []any{cond("Ready", "False", "HealthCheckFailed", "timeout waiting for: [Deployment/ns/shop status: 'InProgress']", 1)}}

	for _, tt := range []struct {
		name    string
		steps   []map[string]any
		timeout time.Duration
		lines   []string
		err     string
	}{
		{name: "ready after reconciling", steps: []map[string]any{stale, stale, progressing, progressing, applied}, timeout: time.Minute, lines: []string{
			"Kustomization ns/apps: Ready=True (ReconciliationSucceeded): Applied revision: main@sha1:" + other + "; applied main@sha1:" + other + ", not a1a1a1a1a1a1",
			"Kustomization ns/apps: Ready=Unknown (Progressing): Reconciliation in progress; applied main@sha1:" + other + ", not a1a1a1a1a1a1; attempted main@sha1:" + want,
			"Kustomization ns/apps: Ready at main@sha1:" + want,
		}},
		{name: "fails", steps: []map[string]any{stale, progressing, failedSt}, timeout: time.Minute,
			err: "Kustomization ns/apps failed: Ready=False (HealthCheckFailed): timeout waiting for: [Deployment/ns/shop status: 'InProgress'] (revision main@sha1:" + want + ")\nlast events:\n  Warning HealthCheckFailed (Kustomization ns/apps): health check failed"},
		{name: "stale times out", steps: []map[string]any{stale}, timeout: 1500 * time.Millisecond,
			err: "waiting for Kustomization ns/apps, stuck at: Ready=True (ReconciliationSucceeded): Applied revision: main@sha1:" + other},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeClient(kustomizationObj(1, nil), &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "HealthCheckFailed", "message": "health check failed",
				"metadata":       map[string]any{"name": "apps.1", "namespace": "ns"},
				"involvedObject": map[string]any{"kind": "Kustomization", "namespace": "ns", "name": "apps"},
			}})
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			go func() {
				for _, st := range tt.steps {
					u, err := c.Resource(kustomizationGVR).Namespace("ns").Get(ctx, "apps", metav1.GetOptions{})
					if err != nil {
						return
					}
					u.Object["status"] = st
					c.Resource(kustomizationGVR).Namespace("ns").UpdateStatus(ctx, u, metav1.UpdateOptions{})
					time.Sleep(150 * time.Millisecond)
				}
			}()
			log := &syncBuffer{}
			w := &waiter{client: c, match: &matcher{want: want}, log: log, now: time.Now, poll: 200 * time.Millisecond}
			got, err := w.wait(ctx, []target{k})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("wait = %v, want an error with %q\nlog:\n%s", err, tt.err, log)
				}
				return
			}
			if err != nil {
				t.Fatalf("wait = %v\nlog:\n%s", err, log)
			}
			// The first look may come before the first status is written.
			lines := strings.Split(strings.TrimSpace(log.String()), "\n")
			if strings.HasSuffix(lines[0], "Ready not reported yet; nothing applied yet") {
				lines = lines[1:]
			}
			if strings.Join(lines, "\n") != strings.Join(tt.lines, "\n") {
				t.Errorf("log:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tt.lines, "\n"))
			}
			if len(got) != 1 || got[0].status.revision != want {
				t.Errorf("wait = %+v", got)
			}
		})
	}
}

// Targets are waited for in order: the Deployment is only judged once
// the Kustomization runs the commit.
func TestWaitInOrder(t *testing.T) {
	k := kustomization{custom{gvr: kustomizationGVR, kind: "Kustomization", namespace: "ns", name: "apps"}}
	d := deployment{namespace: "ns", name: "shop"}
	objs := append(rollout("shop:1", []map[string]any{running("x")},
		map[string]any{"observedGeneration": int64(2), "replicas": int64(1), "updatedReplicas": int64(1), "availableReplicas": int64(1)}),
		kustomizationObj(1, map[string]any{"observedGeneration": int64(1), "lastAppliedRevision": "main@sha1:" + other,
			"conditions": []any{cond("Ready", "True", "ReconciliationSucceeded", "", 1)}}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	log := &syncBuffer{}
	w := &waiter{client: fakeClient(objs...), match: &matcher{want: want}, log: log, now: time.Now, poll: 100 * time.Millisecond}
	_, err := w.wait(ctx, []target{k, d})
	var timeout *TimeoutError
	if !errors.As(err, &timeout) || timeout.Object.Kind != "Kustomization" || strings.Contains(log.String(), "Deployment") {
		t.Errorf("wait = %v\nlog:\n%s", err, log)
	}
}
