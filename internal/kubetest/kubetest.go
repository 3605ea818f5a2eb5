package kubetest

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitship/gitship/internal/kubecluster"
	"github.com/gitship/gitship/internal/testenv"
)

// Cluster is a running etcd and kube-apiserver on loopback: a
// kubecluster.Cluster (Server, CA, Config, Dynamic, Kubeconfig, ReadOnly,
// ReadOnlyKubeconfig, Dir, Etcd, Logs), with what tests add.
type Cluster struct {
	*kubecluster.Cluster
}

// KubeAPIServer is the kube-apiserver executable: the one
// GITSHIP_KUBE_APISERVER names, else one built from tools/kube-apiserver
// once per machine.
func KubeAPIServer() (string, error) { return kubecluster.KubeAPIServer() }

// Etcd is the etcd executable: the one GITSHIP_ETCD names, else one built
// from tools/etcd once per machine.
func Etcd() (string, error) { return kubecluster.Etcd() }

// Version is the Kubernetes version tools/kube-apiserver pins: "v1.37.2".
func Version() (string, error) { return kubecluster.Version() }

var shared struct {
	sync.Mutex
	started     bool
	c           *Cluster
	err         error
	unavailable string
}

// Start returns the test binary's cluster, starting it on the first call
// (a start takes some seconds; building the binaries on a new machine
// takes minutes). It skips the test when kube-apiserver or etcd cannot be
// built or found, or fails it under GITSHIP_TEST_STRICT; it fails the test
// when they do not start.
func Start(t testing.TB) *Cluster {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.started {
		shared.started = true
		c, err := kubecluster.Start(kubecluster.Options{UserAgent: "gitship-kubetest"})
		var unavailable *kubecluster.UnavailableError
		switch {
		case errors.As(err, &unavailable):
			shared.unavailable = unavailable.Error()
		case err != nil:
			shared.err = err
		default:
			shared.c = &Cluster{c}
		}
	}
	switch {
	case shared.unavailable != "":
		testenv.Unavailable(t, "kubetest: %s", shared.unavailable)
	case shared.err != nil:
		t.Fatalf("kubetest: %v", shared.err)
	}
	return shared.c
}

// Stop stops the test binary's cluster, if one was started, and removes
// its directory. A TestMain may call it after m.Run; without it, the
// processes end with the test binary and the next Start removes the
// directory.
func Stop() {
	shared.Lock()
	defer shared.Unlock()
	if shared.c != nil {
		shared.c.Stop()
	}
}

// WriteKubeconfig writes a kubeconfig file with one context, "gitship-test":
// the server's URL, the CA that signed its certificate (PEM) and a bearer
// token.
func WriteKubeconfig(path, server string, ca []byte, token string) error {
	return kubecluster.WriteKubeconfig(path, server, ca, token)
}

// Namespace makes a namespace for the test, named after it and new:
// "testname-x7k2q". It is left behind when the test ends (with no
// controller manager, a deleted namespace would stay Terminating); the
// cluster goes away with the test binary.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	name := dnsLabel(t.Name(), 50) + "-" + randomLower(5)
	if err := c.CreateNamespace(context.Background(), name); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return name
}

// dnsLabel turns s into a DNS label of at most n characters: lower case,
// letters, digits and dashes.
func dnsLabel(s string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	if len(out) > n {
		out = out[:n]
	}
	out = strings.Trim(out, "-")
	if out == "" {
		out = "test"
	}
	return out
}

func randomLower(n int) string {
	const letters = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// The kinds tests use.
var (
	KustomizationGVR = kubecluster.KustomizationGVR
	HelmReleaseGVR   = kubecluster.HelmReleaseGVR
	ApplicationGVR   = kubecluster.ApplicationGVR
	DeploymentGVR    = kubecluster.DeploymentGVR
	ReplicaSetGVR    = kubecluster.ReplicaSetGVR
	PodGVR           = kubecluster.PodGVR
	EventGVR         = kubecluster.EventGVR
	NamespaceGVR     = kubecluster.NamespaceGVR
)

// CRDs are the published CustomResourceDefinitions of Flux's
// Kustomization and HelmRelease and Argo CD's Application, under crds/
// (internal/kubecluster/crds/NOTICE says where each comes from).
var CRDs = kubecluster.CRDs

// InstallCRDs installs CRDs in the cluster, once per cluster, and waits
// until the API server serves them (Established).
func InstallCRDs(t testing.TB, c *Cluster) {
	t.Helper()
	if err := c.InstallCRDs(context.Background()); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
}

// Apply applies the objects of a YAML stream (documents separated by
// "---") with server-side apply, as the admin user of client, and returns
// them as the server has them.
func Apply(ctx context.Context, client dynamic.Interface, yamlData []byte) ([]*unstructured.Unstructured, error) {
	return kubecluster.Apply(ctx, client, yamlData)
}

// GVR is the resource of obj's kind, guessed from the kind ("Pod" →
// "pods", "Policy" → "policies").
func GVR(obj *unstructured.Unstructured) schema.GroupVersionResource { return kubecluster.GVR(obj) }

// Create creates obj in the namespace ns ("" for a cluster-scoped kind)
// as the admin user and returns it as the server has it.
func Create(t testing.TB, c *Cluster, ns string, obj *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	created, err := kubecluster.Create(context.Background(), c.Cluster, ns, obj)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return created
}

// PatchStatus sets the fields of status in the object's .status, as a
// controller writes it (kubecluster.PatchStatus).
func PatchStatus(ctx context.Context, c *Cluster, gvr schema.GroupVersionResource, ns, name string, status map[string]any) (*unstructured.Unstructured, error) {
	return kubecluster.PatchStatus(ctx, c.Cluster, gvr, ns, name, status)
}

// Condition is a status condition the way Flux (metav1.Condition) and
// Kubernetes' own controllers write one.
func Condition(typ, status, reason, message string, observedGeneration int64) map[string]any {
	return kubecluster.Condition(typ, status, reason, message, observedGeneration)
}

// Kustomization is a Flux Kustomization named name, with the least spec
// its CRD accepts: the path ./NAME of a GitRepository "gitops".
func Kustomization(name string) *unstructured.Unstructured { return kubecluster.Kustomization(name) }

// HelmRelease is a Flux HelmRelease named name, of the chart NAME in a
// HelmRepository "charts".
func HelmRelease(name string) *unstructured.Unstructured { return kubecluster.HelmRelease(name) }

// Application is an Argo CD Application named name: the path apps/NAME
// of a Git repository, deployed to the namespace NAME.
func Application(name string) *unstructured.Unstructured { return kubecluster.Application(name) }

// IsForbidden reports whether err is the API server's 403.
func IsForbidden(err error) bool { return kubecluster.IsForbidden(err) }

// Workload, Pod, Rollout and EventInfo are kubecluster's.
type (
	Workload  = kubecluster.Workload
	Pod       = kubecluster.Pod
	Rollout   = kubecluster.Rollout
	EventInfo = kubecluster.EventInfo
)

// RollOut plays the Deployment controller and the kubelet for the
// Deployment w.Name in ns (kubecluster.RollOut).
func RollOut(ctx context.Context, c *Cluster, ns string, w Workload) (*Rollout, error) {
	return kubecluster.RollOut(ctx, c.Cluster, ns, w)
}

// RolloutComplete writes the Deployment's status for a rollout that has
// finished (kubecluster.RolloutComplete).
func RolloutComplete(ctx context.Context, c *Cluster, ns, name string) (*unstructured.Unstructured, error) {
	return kubecluster.RolloutComplete(ctx, c.Cluster, ns, name)
}

// Event records a core/v1 Event about obj in obj's namespace, as a
// controller does, and returns it.
func Event(ctx context.Context, c *Cluster, obj *unstructured.Unstructured, e EventInfo) (*unstructured.Unstructured, error) {
	return kubecluster.Event(ctx, c.Cluster, obj, e)
}
