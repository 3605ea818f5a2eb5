package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// waiter waits for targets one after the other: a Kustomization before
// the HelmRelease it applies, both before the Deployment they change, so
// a later target is only judged once the earlier ones run the commit.
type waiter struct {
	client dynamic.Interface
	match  *matcher
	log    io.Writer
	// now is the clock; poll is the longest time between two looks when
	// no watch event comes (the first look again is after a second).
	now  func() time.Time
	poll time.Duration
	// unreachable wraps an error that says the API server cannot be
	// reached, for the state line; nil leaves errors as they are.
	unreachable func(error) error
}

// done is a target that became ready.
type done struct {
	target target
	status status
	at     time.Time
}

// FailedError is a target that failed: its object, the controller's
// message and the last events about it.
type FailedError struct {
	Object objectRef
	Reason string
	Events []string
}

func (e *FailedError) Error() string {
	s := e.Object.String() + " failed: " + e.Reason
	if len(e.Events) > 0 {
		s += "\nlast events:"
		for _, ev := range e.Events {
			s += "\n  " + ev
		}
	}
	return s
}

// TimeoutError is a wait that ran out of time: what it was waiting for
// and the state it was stuck in.
type TimeoutError struct {
	Object objectRef
	State  string
	After  time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for %s, stuck at: %s", e.After.Round(time.Second), e.Object, e.State)
}

// minLook is the least time between two looks at a target.
const minLook = 200 * time.Millisecond

// errForbidden is a read the credentials are not allowed: see the Role
// in docs/verify-rbac.yaml.
var errForbidden = errors.New("forbidden")

func (w *waiter) wait(ctx context.Context, targets []target) ([]done, error) {
	start := w.now()
	wake := make(chan struct{}, 1)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, t := range targets {
		for _, spec := range t.watches() {
			go w.watch(wctx, spec, wake)
		}
	}
	var out []done
	for _, t := range targets {
		last := ""
		delay := time.Second
		for {
			st, err := t.check(ctx, w.client, w.match)
			if err != nil {
				if ctx.Err() != nil {
					return out, &TimeoutError{Object: t.ref(), State: orUnknown(last), After: w.now().Sub(start)}
				}
				if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
					return out, fmt.Errorf("read %s: %w: %v (the Role in docs/verify-rbac.yaml grants what verify reads)", t.ref(), errForbidden, err)
				}
				if errors.Is(err, errForbidden) {
					return out, fmt.Errorf("read %s: %w", t.ref(), err)
				}
				if w.unreachable != nil {
					if _, ok := err.(apierrors.APIStatus); !ok {
						err = w.unreachable(err)
					}
				}
				st = status{state: "cannot read it: " + oneLine(err.Error())}
			}
			if st.state != last {
				fmt.Fprintf(w.log, "%s: %s\n", t.ref(), st.state)
				last = st.state
				delay = time.Second
			}
			switch st.phase {
			case ready:
				out = append(out, done{target: t, status: st, at: w.now()})
			case failed:
				return out, &FailedError{Object: t.ref(), Reason: st.reason, Events: w.events(ctx, st.about)}
			}
			if st.phase == ready {
				break
			}
			timer := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				timer.Stop()
				return out, &TimeoutError{Object: t.ref(), State: last, After: w.now().Sub(start)}
			case <-wake:
				timer.Stop()
				// A busy namespace's pods change many times a second:
				// look at most every minLook, whatever wakes the waiter.
				select {
				case <-ctx.Done():
				case <-time.After(minLook):
				}
			case <-timer.C:
				delay = min(delay*2, w.poll)
			}
		}
	}
	return out, nil
}

// watch pokes wake at every change to what spec names, starting the
// watch again when the server ends it. It is only a wake-up: the waiter
// reads the objects again itself, and looks anyway every poll, so a
// watch that is refused (a Role without watch) costs only latency.
func (w *waiter) watch(ctx context.Context, spec watchSpec, wake chan<- struct{}) {
	opts := metav1.ListOptions{LabelSelector: spec.selector}
	if spec.name != "" {
		opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", spec.name).String()
	}
	backoff := time.Second
	for ctx.Err() == nil {
		timeout := int64(300)
		opts.TimeoutSeconds = &timeout
		wi, err := w.client.Resource(spec.gvr).Namespace(spec.namespace).Watch(ctx, opts)
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		for ev := range wi.ResultChan() {
			if ev.Type == watch.Error {
				break
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		wi.Stop()
	}
}
