package verify

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

var (
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	replicaSetsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	podsGVR        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	eventsGVR      = schema.GroupVersionResource{Version: "v1", Resource: "events"}
)

// podFailures are the waiting reasons that do not fix themselves: the
// rollout has failed.
var podFailures = []string{"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull",
	"CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"}

// digestIn finds the digest in an image reference or a pod's imageID
// (docker-pullable://repo@sha256:...).
var digestIn = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// deployment is a Deployment's rollout: complete when the controller has
// seen the current generation and every replica is updated and available,
// as kubectl rollout status decides; with a digest, when the pods of the
// current ReplicaSet run it too. It fails on ProgressDeadlineExceeded and
// on pods that cannot pull their image or keep crashing.
type deployment struct {
	namespace, name string
	digest          string // sha256:..., or ""
}

func (d deployment) ref() objectRef { return objectRef{"Deployment", d.namespace, d.name} }

func (d deployment) watches() []watchSpec {
	return []watchSpec{
		{gvr: deploymentsGVR, namespace: d.namespace, name: d.name},
		{gvr: replicaSetsGVR, namespace: d.namespace},
		{gvr: podsGVR, namespace: d.namespace},
	}
}

func (d deployment) check(ctx context.Context, c dynamic.Interface, _ *matcher) (status, error) {
	u, err := c.Resource(deploymentsGVR).Namespace(d.namespace).Get(ctx, d.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return status{state: "not found"}, nil
	}
	if err != nil {
		return status{}, err
	}
	var dep appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &dep); err != nil {
		return status{}, fmt.Errorf("read Deployment %s/%s: %w", d.namespace, d.name, err)
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	if d.digest != "" && !templateRuns(dep.Spec.Template.Spec, d.digest) {
		return status{state: "its pod template does not run " + short(d.digest[7:]) + " yet: " + strings.Join(images(dep.Spec.Template.Spec), ", ")}, nil
	}
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" ||
			c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			msg := fmt.Sprintf("%s (%s): %s", c.Type, c.Reason, oneLine(c.Message))
			return status{phase: failed, state: msg, reason: msg, about: []objectRef{d.ref()}}, nil
		}
	}
	pods, err := d.currentPods(ctx, c, &dep)
	if err != nil {
		return status{}, err
	}
	for _, p := range pods {
		if why := podFailure(p); why != "" {
			return status{phase: failed, state: why, reason: "pod " + p.Name + ": " + why,
				about: []objectRef{{"Pod", p.Namespace, p.Name}, d.ref()}}, nil
		}
	}
	st := dep.Status
	var state string
	switch {
	case st.ObservedGeneration < dep.Generation:
		state = fmt.Sprintf("generation %d not seen by the deployment controller yet", dep.Generation)
	case st.UpdatedReplicas < want:
		state = fmt.Sprintf("%d of %d replicas updated", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		state = fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < st.UpdatedReplicas:
		state = fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, st.UpdatedReplicas)
	}
	if state != "" {
		return status{state: state}, nil
	}
	if d.digest != "" {
		running := 0
		for _, p := range pods {
			if podRuns(p, d.digest) {
				running++
			}
		}
		if running < int(want) {
			return status{state: fmt.Sprintf("%d of %d pods run %s", running, want, short(d.digest[7:]))}, nil
		}
		return status{phase: ready, state: fmt.Sprintf("rolled out, %d of %d replicas available, running %s", st.AvailableReplicas, want, short(d.digest[7:]))}, nil
	}
	return status{phase: ready, state: fmt.Sprintf("rolled out, %d of %d replicas available", st.AvailableReplicas, want)}, nil
}

// currentPods are the pods of the Deployment's current ReplicaSet (the
// one of its revision), or every pod its selector matches when no
// ReplicaSet is found.
func (d deployment) currentPods(ctx context.Context, c dynamic.Interface, dep *appsv1.Deployment) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("Deployment %s/%s: selector: %w", d.namespace, d.name, err)
	}
	opts := metav1.ListOptions{LabelSelector: sel.String()}
	rsList, err := c.Resource(replicaSetsGVR).Namespace(d.namespace).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	// The current ReplicaSet has the Deployment's revision; failing
	// that annotation, the one whose pod template runs the same images.
	revision := dep.Annotations["deployment.kubernetes.io/revision"]
	var owner, sameImages types.UID
	for _, u := range rsList.Items {
		if !ownedBy(u.GetOwnerReferences(), dep.UID) {
			continue
		}
		if revision != "" && u.GetAnnotations()["deployment.kubernetes.io/revision"] == revision {
			owner = u.GetUID()
		}
		var rs appsv1.ReplicaSet
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &rs) == nil &&
			slices.Equal(images(rs.Spec.Template.Spec), images(dep.Spec.Template.Spec)) {
			sameImages = u.GetUID()
		}
	}
	if owner == "" {
		owner = sameImages
	}
	podList, err := c.Resource(podsGVR).Namespace(d.namespace).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	var pods []corev1.Pod
	for _, u := range podList.Items {
		if owner != "" && !ownedBy(u.GetOwnerReferences(), owner) {
			continue
		}
		var p corev1.Pod
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &p); err != nil {
			return nil, fmt.Errorf("read Pod %s/%s: %w", d.namespace, u.GetName(), err)
		}
		if p.DeletionTimestamp == nil {
			pods = append(pods, p)
		}
	}
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return pods, nil
}

func ownedBy(refs []metav1.OwnerReference, uid types.UID) bool {
	return slices.ContainsFunc(refs, func(r metav1.OwnerReference) bool { return r.UID == uid })
}

func podFailure(p corev1.Pod) string {
	statuses := append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && slices.Contains(podFailures, w.Reason) {
			msg := "container " + cs.Name + ": " + w.Reason
			if w.Message != "" {
				msg += ": " + oneLine(w.Message)
			}
			return msg
		}
	}
	return ""
}

func templateRuns(spec corev1.PodSpec, digest string) bool {
	return slices.ContainsFunc(images(spec), func(img string) bool { return strings.HasSuffix(img, "@"+digest) })
}

func images(spec corev1.PodSpec) []string {
	var out []string
	for _, c := range spec.Containers {
		out = append(out, c.Image)
	}
	return out
}

// podRuns says whether a running, ready container of the pod runs the
// digest, as the kubelet reports it in imageID.
func podRuns(p corev1.Pod, digest string) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Ready && cs.State.Running != nil && digestIn.FindString(cs.ImageID) == digest {
			return true
		}
	}
	return false
}

// parseWorkload reads NAMESPACE/Deployment/NAME.
func parseWorkload(s string) (namespace, name string, err error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", "", fmt.Errorf("--workload %q: want NAMESPACE/Deployment/NAME", s)
	}
	switch strings.ToLower(parts[1]) {
	case "deployment", "deployments", "deploy":
		return parts[0], parts[2], nil
	}
	return "", "", fmt.Errorf("--workload %q: kind %q: only Deployment is supported", s, parts[1])
}

// parseDigest reads --image: REPOSITORY@sha256:... or sha256:....
func parseDigest(s string) (string, error) {
	d := digestIn.FindString(s)
	if d == "" || !strings.HasSuffix(s, d) || (len(s) > len(d) && !strings.HasSuffix(s, "@"+d)) {
		return "", fmt.Errorf("--image %q: want REPOSITORY@sha256:<64 hex digits> or sha256:<64 hex digits>", s)
	}
	return d, nil
}
