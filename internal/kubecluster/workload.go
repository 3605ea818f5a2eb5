package kubecluster

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Workload is a Deployment for RollOut: its name, the image its pod
// template runs, and the pods of the new ReplicaSet as a kubelet would
// report them.
type Workload struct {
	Name string
	// Image is the pod template's image: "127.0.0.1:5000/app@sha256:...".
	Image string
	// Replicas is spec.replicas; 0 means 1.
	Replicas int
	// Pods are the new ReplicaSet's pods; none means Replicas pods
	// running and ready, with Image as their image ID.
	Pods []Pod
}

// Pod is a pod's status as a kubelet reports it for its one container.
type Pod struct {
	// ImageID is containerStatuses[0].imageID, what the container runs:
	// "127.0.0.1:5000/app@sha256:..."; empty means the Workload's Image,
	// except while the image is not pulled (ImagePullBackOff,
	// ErrImagePull), when it stays empty as a kubelet leaves it.
	ImageID string
	// Waiting is the container's waiting reason: "ImagePullBackOff",
	// "ErrImagePull", "CrashLoopBackOff"; empty means running and ready.
	Waiting string
	// Message is the waiting state's message; empty means one like the
	// kubelet's.
	Message string
	// Restarts is the restart count (a CrashLoopBackOff pod has
	// restarted).
	Restarts int
}

// Rollout is what RollOut made: the Deployment, the new ReplicaSet and
// its pods, as the server has them.
type Rollout struct {
	Deployment *unstructured.Unstructured
	ReplicaSet *unstructured.Unstructured
	Pods       []*unstructured.Unstructured
}

// container names the one container of the pod template.
const container = "app"

// revisionAnnotation holds a Deployment's and its ReplicaSets' revision.
const revisionAnnotation = "deployment.kubernetes.io/revision"

// RollOut plays the Deployment controller and the kubelet for the
// Deployment w.Name in ns: it creates the Deployment, or sets its image
// (a new generation); makes the ReplicaSet for that image (owned by the
// Deployment, with a pod-template-hash and the next revision) with its
// pods (owned by the ReplicaSet) and writes their status (w.Pods) and the
// ReplicaSet's. The Deployment's status is left to RolloutComplete or
// PatchStatus, as a rollout in progress has it.
func RollOut(ctx context.Context, c *Cluster, ns string, w Workload) (*Rollout, error) {
	replicas := w.Replicas
	if replicas == 0 {
		replicas = 1
	}
	pods := w.Pods
	if len(pods) == 0 {
		pods = make([]Pod, replicas)
	}
	hash := templateHash(w.Image)
	labels := map[string]any{"app": w.Name}
	template := func(hash string) map[string]any {
		l := map[string]any{"app": w.Name}
		if hash != "" {
			l["pod-template-hash"] = hash
		}
		return map[string]any{
			"metadata": map[string]any{"labels": l},
			"spec": map[string]any{"containers": []any{
				map[string]any{"name": container, "image": w.Image},
			}},
		}
	}

	deployments := c.Dynamic.Resource(DeploymentGVR).Namespace(ns)
	dep, err := deployments.Get(ctx, w.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		obj := object("apps/v1", "Deployment", ns, w.Name)
		obj.Object["spec"] = map[string]any{
			"replicas": int64(replicas),
			"selector": map[string]any{"matchLabels": labels},
			"template": template(""),
		}
		if dep, err = deployments.Create(ctx, obj, createOptions); err != nil {
			return nil, fmt.Errorf("create deployment %s/%s: %w", ns, w.Name, err)
		}
	case err != nil:
		return nil, fmt.Errorf("get deployment %s/%s: %w", ns, w.Name, err)
	default:
		if err := unstructured.SetNestedField(dep.Object, template("")["spec"], "spec", "template", "spec"); err != nil {
			return nil, err
		}
		if err := unstructured.SetNestedField(dep.Object, int64(replicas), "spec", "replicas"); err != nil {
			return nil, err
		}
		if dep, err = deployments.Update(ctx, dep, metav1.UpdateOptions{FieldManager: fieldManager}); err != nil {
			return nil, fmt.Errorf("update deployment %s/%s: %w", ns, w.Name, err)
		}
	}
	out := &Rollout{Deployment: dep}

	// The revision: one more than the newest of the Deployment's
	// ReplicaSets. A template seen before (a roll-back) reuses its
	// ReplicaSet under the new revision, as the Deployment controller
	// does.
	replicaSets := c.Dynamic.Resource(ReplicaSetGVR).Namespace(ns)
	list, err := replicaSets.List(ctx, metav1.ListOptions{LabelSelector: "app=" + w.Name})
	if err != nil {
		return nil, fmt.Errorf("list replicasets in %s: %w", ns, err)
	}
	revision := 1
	var existing *unstructured.Unstructured
	for i, item := range list.Items {
		if r, err := strconv.Atoi(item.GetAnnotations()[revisionAnnotation]); err == nil && r >= revision {
			revision = r + 1
		}
		if item.GetName() == w.Name+"-"+hash {
			existing = &list.Items[i]
		}
	}
	rs := object("apps/v1", "ReplicaSet", ns, w.Name+"-"+hash)
	if existing != nil {
		rs = existing
	}
	rs.SetAnnotations(map[string]string{revisionAnnotation: strconv.Itoa(revision)})
	rs.SetLabels(map[string]string{"app": w.Name, "pod-template-hash": hash})
	rs.SetOwnerReferences([]metav1.OwnerReference{owner(dep)})
	rs.Object["spec"] = map[string]any{
		"replicas": int64(replicas),
		"selector": map[string]any{"matchLabels": map[string]any{"app": w.Name, "pod-template-hash": hash}},
		"template": template(hash),
	}
	if existing != nil {
		out.ReplicaSet, err = replicaSets.Update(ctx, rs, metav1.UpdateOptions{FieldManager: fieldManager})
	} else {
		out.ReplicaSet, err = replicaSets.Create(ctx, rs, createOptions)
	}
	if err != nil {
		return nil, fmt.Errorf("write replicaset %s/%s: %w", ns, rs.GetName(), err)
	}
	// The Deployment carries its current revision too. The controller
	// writes that annotation through the status subresource, where it
	// makes no new generation (through the object, an annotation
	// change of a Deployment does).
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, revisionAnnotation, strconv.Itoa(revision))
	if out.Deployment, err = deployments.Patch(ctx, w.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: fieldManager}, "status"); err != nil {
		return nil, fmt.Errorf("annotate deployment %s/%s: %w", ns, w.Name, err)
	}

	ready := 0
	for i, p := range pods {
		pod := object("v1", "Pod", ns, fmt.Sprintf("%s-%s-%d", w.Name, hash, i))
		pod.SetLabels(map[string]string{"app": w.Name, "pod-template-hash": hash})
		pod.SetOwnerReferences([]metav1.OwnerReference{owner(out.ReplicaSet)})
		pod.Object["spec"] = template(hash)["spec"]
		created, err := c.Dynamic.Resource(PodGVR).Namespace(ns).Create(ctx, pod, createOptions)
		if apierrors.IsAlreadyExists(err) {
			// A roll-back: the pod of this template is still there.
			created, err = c.Dynamic.Resource(PodGVR).Namespace(ns).Get(ctx, pod.GetName(), metav1.GetOptions{})
		}
		if err != nil {
			return nil, fmt.Errorf("create pod %s/%s: %w", ns, pod.GetName(), err)
		}
		got, err := PatchStatus(ctx, c, PodGVR, ns, created.GetName(), podStatus(w.Image, created.GetName(), p))
		if err != nil {
			return nil, err
		}
		if p.Waiting == "" {
			ready++
		}
		out.Pods = append(out.Pods, got)
	}
	if out.ReplicaSet, err = PatchStatus(ctx, c, ReplicaSetGVR, ns, rs.GetName(), map[string]any{
		"observedGeneration":   out.ReplicaSet.GetGeneration(),
		"replicas":             int64(len(pods)),
		"fullyLabeledReplicas": int64(len(pods)),
		"readyReplicas":        int64(ready),
		"availableReplicas":    int64(ready),
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// podStatus is the status a kubelet reports for a pod of p's state.
func podStatus(image, name string, p Pod) map[string]any {
	now := time.Now().UTC().Format(time.RFC3339)
	imageID := p.ImageID
	cs := map[string]any{
		"name":         container,
		"image":        image,
		"restartCount": int64(p.Restarts),
		"ready":        p.Waiting == "",
		"started":      p.Waiting == "",
	}
	phase, ready := "Running", "True"
	switch p.Waiting {
	case "":
		cs["state"] = map[string]any{"running": map[string]any{"startedAt": now}}
	case "ImagePullBackOff", "ErrImagePull":
		phase, ready = "Pending", "False"
		msg := p.Message
		if msg == "" {
			msg = fmt.Sprintf("Back-off pulling image %q", image)
			if p.Waiting == "ErrImagePull" {
				msg = fmt.Sprintf("failed to pull and unpack image %q: not found", image)
			}
		}
		cs["state"] = map[string]any{"waiting": map[string]any{"reason": p.Waiting, "message": msg}}
	default:
		ready = "False"
		msg := p.Message
		if msg == "" {
			msg = fmt.Sprintf("back-off 5m0s restarting failed container=%s pod=%s", container, name)
		}
		cs["state"] = map[string]any{"waiting": map[string]any{"reason": p.Waiting, "message": msg}}
		cs["lastState"] = map[string]any{"terminated": map[string]any{
			"exitCode": int64(1), "reason": "Error", "startedAt": now, "finishedAt": now,
		}}
	}
	if imageID == "" && p.Waiting != "ImagePullBackOff" && p.Waiting != "ErrImagePull" {
		imageID = image
	}
	cs["imageID"] = imageID
	return map[string]any{
		"phase": phase,
		"conditions": []any{
			map[string]any{"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
			map[string]any{"type": "Initialized", "status": "True", "lastTransitionTime": now},
			map[string]any{"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
			map[string]any{"type": "Ready", "status": ready, "lastTransitionTime": now},
		},
		"startTime":         now,
		"containerStatuses": []any{cs},
	}
}

// RolloutComplete writes the Deployment's status for a rollout that has
// finished: observed at its current generation, all replicas updated,
// ready and available, Available and Progressing (NewReplicaSetAvailable).
// As the Deployment controller has by then, it scales the older
// ReplicaSets (of other templates) to zero and deletes their pods.
func RolloutComplete(ctx context.Context, c *Cluster, ns, name string) (*unstructured.Unstructured, error) {
	dep, err := c.Dynamic.Resource(DeploymentGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
	}
	replicas, _, _ := unstructured.NestedInt64(dep.Object, "spec", "replicas")
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	image := ""
	if len(containers) > 0 {
		image, _ = containers[0].(map[string]any)["image"].(string)
	}
	current := templateHash(image)
	replicaSets := c.Dynamic.Resource(ReplicaSetGVR).Namespace(ns)
	list, err := replicaSets.List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return nil, fmt.Errorf("list replicasets in %s: %w", ns, err)
	}
	for _, rs := range list.Items {
		hash := rs.GetLabels()["pod-template-hash"]
		if hash == current {
			continue
		}
		if _, err := replicaSets.Patch(ctx, rs.GetName(), types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{FieldManager: fieldManager}); err != nil {
			return nil, fmt.Errorf("scale down replicaset %s/%s: %w", ns, rs.GetName(), err)
		}
		if _, err := PatchStatus(ctx, c, ReplicaSetGVR, ns, rs.GetName(), map[string]any{
			"replicas": int64(0), "fullyLabeledReplicas": int64(0), "readyReplicas": int64(0), "availableReplicas": int64(0),
		}); err != nil {
			return nil, err
		}
		if err := c.Dynamic.Resource(PodGVR).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "app=" + name + ",pod-template-hash=" + hash}); err != nil {
			return nil, fmt.Errorf("delete the pods of replicaset %s/%s: %w", ns, rs.GetName(), err)
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	return PatchStatus(ctx, c, DeploymentGVR, ns, name, map[string]any{
		"observedGeneration": dep.GetGeneration(),
		"replicas":           replicas,
		"updatedReplicas":    replicas,
		"readyReplicas":      replicas,
		"availableReplicas":  replicas,
		"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
				"message": "Deployment has minimum availability.", "lastUpdateTime": now, "lastTransitionTime": now},
			map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
				"message": fmt.Sprintf("ReplicaSet %q has successfully progressed.", name+"-"+current), "lastUpdateTime": now, "lastTransitionTime": now},
		},
	})
}

// EventInfo is what Event records.
type EventInfo struct {
	// Type is "Normal" or "Warning"; empty means "Warning".
	Type string
	// Reason and Message: "BackOff", "Back-off pulling image ...";
	// Flux's "ReconciliationFailed", "HealthCheckFailed".
	Reason, Message string
	// Component is the reporting controller: "kubelet",
	// "kustomize-controller", "helm-controller", "argocd-application-controller";
	// empty means "kubecluster".
	Component string
	// Time is the event's last time; zero means now.
	Time time.Time
}

// Event records a core/v1 Event about obj in obj's namespace, as a
// controller does, and returns it.
func Event(ctx context.Context, c *Cluster, obj *unstructured.Unstructured, e EventInfo) (*unstructured.Unstructured, error) {
	if e.Type == "" {
		e.Type = "Warning"
	}
	if e.Component == "" {
		e.Component = "kubecluster"
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	at := e.Time.UTC().Format(time.RFC3339)
	ev := object("v1", "Event", obj.GetNamespace(), fmt.Sprintf("%s.%x", obj.GetName(), e.Time.UnixNano()))
	ev.Object["involvedObject"] = map[string]any{
		"apiVersion":      obj.GetAPIVersion(),
		"kind":            obj.GetKind(),
		"name":            obj.GetName(),
		"namespace":       obj.GetNamespace(),
		"uid":             string(obj.GetUID()),
		"resourceVersion": obj.GetResourceVersion(),
	}
	ev.Object["type"] = e.Type
	ev.Object["reason"] = e.Reason
	ev.Object["message"] = e.Message
	ev.Object["source"] = map[string]any{"component": e.Component}
	ev.Object["firstTimestamp"] = at
	ev.Object["lastTimestamp"] = at
	ev.Object["count"] = int64(1)
	created, err := c.Dynamic.Resource(EventGVR).Namespace(obj.GetNamespace()).Create(ctx, ev, createOptions)
	if err != nil {
		return nil, fmt.Errorf("create event %s/%s: %w", ev.GetNamespace(), ev.GetName(), err)
	}
	return created, nil
}

// owner is a controller owner reference to obj.
func owner(obj *unstructured.Unstructured) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Name: obj.GetName(), UID: obj.GetUID(),
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// templateHash is a pod-template-hash for image, as the Deployment
// controller's: the same template, the same hash (and ReplicaSet).
func templateHash(image string) string {
	h := fnv.New32a()
	h.Write([]byte(image))
	return fmt.Sprintf("%08x", h.Sum32())
}
