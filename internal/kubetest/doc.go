// Package kubetest runs a real Kubernetes API server for tests: etcd and
// kube-apiserver on loopback, with no controller, no scheduler and no
// kubelet. A test plays the controllers itself: it creates Flux and Argo
// CD objects and workloads, and writes their .status the way Flux, Argo
// CD and the kubelet would (PatchStatus, RollOut, Event).
//
// The work is done by internal/kubecluster, which imports no testing
// package and which make demo's tools/localcluster runs as a command;
// kubetest adds one cluster per test binary, namespaces named after
// tests, and skipping or failing a test (t.Fatal) where kubecluster
// returns an error.
//
// # Binaries
//
// kube-apiserver is built from tools/kube-apiserver (k8s.io/kubernetes
// with its staging modules pinned by replace) and etcd from tools/etcd
// (go.etcd.io/etcd/server/v3), once per machine, through internal/gotool
// into $XDG_CACHE_HOME/gitship-test/; the modules must be in the module
// cache (`go mod download` in each of the two directories), since the
// build runs with GOPROXY=off. A cold build of kube-apiserver takes
// minutes. GITSHIP_KUBE_APISERVER and GITSHIP_ETCD name executables built
// already, used instead. When a binary cannot be had the test skips, or
// fails under GITSHIP_TEST_STRICT (internal/testenv).
//
// # Usage
//
// One cluster serves all the tests of a test binary: the first Start
// starts it, the next ones return it, and it stops when the test binary
// exits (its processes get SIGKILL when their parent dies; a later Start
// removes the directories that dead test binaries left). Each test works
// in a namespace of its own:
//
//	func TestSomething(t *testing.T) {
//		c := kubetest.Start(t)          // *kubetest.Cluster
//		kubetest.InstallCRDs(t, c)      // Flux Kustomization, HelmRelease, Argo CD Application
//		ns := c.Namespace(t)            // "something-x7k2q", new for this test
//
//		// Admin access: c.Config (*rest.Config), c.Dynamic, and
//		// c.Kubeconfig, a kubeconfig file for the admin user.
//		// Read-only access: c.ReadOnly and c.ReadOnlyKubeconfig, the
//		// service account of docs/verify-rbac.yaml, applied as it is.
//		run(t, "--kubeconfig", c.ReadOnlyKubeconfig, "--flux-kustomization", ns+"/app")
//
//		ctx := context.Background()
//		kubetest.Create(t, c, ns, kubetest.Kustomization("app"))
//		_, err := kubetest.PatchStatus(ctx, c, kubetest.KustomizationGVR, ns, "app", map[string]any{
//			"observedGeneration":  int64(1),
//			"lastAppliedRevision": "main@sha1:" + commit,
//			"conditions": []any{
//				kubetest.Condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:"+commit, 1),
//			},
//		})
//	}
//
// PatchStatus writes through the status subresource where the kind has
// one (Flux's kinds, Deployments, Pods), and through the object itself
// where it has none (Argo CD's Application, as Argo CD's controller does).
//
// Workloads: RollOut makes a Deployment (or sets its image: a new
// generation), the ReplicaSet of that image (owned by it, with a
// pod-template-hash and the next deployment.kubernetes.io/revision, also
// written on the Deployment) and its pods (owned by the ReplicaSet), each
// with the status a kubelet would report: Running and Ready with the
// image digest in containerStatuses[].imageID, or waiting with
// ImagePullBackOff, ErrImagePull or CrashLoopBackOff (Pod.Waiting). The
// Deployment's status stays as it was, as while a rollout is in progress;
// RolloutComplete then writes it for a finished rollout and scales the
// older ReplicaSets to zero, deleting their pods. Rolling out an image
// seen before reuses its ReplicaSet, as a roll-back does. Event records a
// core/v1 Event about an object, as a controller does.
//
// A TestMain may call Stop after m.Run to stop the cluster at once; the
// processes otherwise end with the test binary.
//
// A kubeconfig that names a server nobody listens on, for the
// "unreachable cluster" case: WriteKubeconfig(path, "https://127.0.0.1:"+port, c.CA, "token").
package kubetest
