package verify

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
)

// lastEvents is how many events about a failed object are shown.
const lastEvents = 5

// events are the last events about the objects, oldest first, as
// "Warning Failed (Pod shop/shop-1): message"; none when they cannot be
// read, as a failure is reported either way.
func (w *waiter) events(ctx context.Context, about []objectRef) []string {
	if w.client == nil {
		return nil // only the Argo CD API server was read
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var out []string
	for _, o := range about {
		sel := fields.Set{"involvedObject.name": o.Name, "involvedObject.kind": o.Kind}.AsSelector().String()
		list, err := w.client.Resource(eventsGVR).Namespace(o.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			continue
		}
		var evs []corev1.Event
		for _, u := range list.Items {
			var ev corev1.Event
			if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ev) != nil {
				continue
			}
			// A fake or an old server may not filter by field.
			if ev.InvolvedObject.Name == o.Name && ev.InvolvedObject.Kind == o.Kind {
				evs = append(evs, ev)
			}
		}
		slices.SortStableFunc(evs, func(a, b corev1.Event) int { return eventTime(a).Compare(eventTime(b)) })
		if len(evs) > lastEvents {
			evs = evs[len(evs)-lastEvents:]
		}
		for _, ev := range evs {
			line := fmt.Sprintf("%s %s (%s): %s", ev.Type, ev.Reason, o, oneLine(ev.Message))
			if ev.Count > 1 {
				line += fmt.Sprintf(" (x%d)", ev.Count)
			}
			out = append(out, line)
		}
	}
	return out
}

func eventTime(ev corev1.Event) time.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.Time
	}
	return ev.CreationTimestamp.Time
}
