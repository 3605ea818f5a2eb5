// Package kubecluster runs a real Kubernetes API server on loopback: etcd
// and kube-apiserver, with no controller, no scheduler and no kubelet,
// and plays the controllers that are not there. It is the core that the
// tests' internal/kubetest wraps for *testing.T and that make demo's
// tools/localcluster runs as a command; nothing here imports testing.
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
// already, used instead. When a binary cannot be had, Start returns an
// *UnavailableError.
//
// # Cluster
//
// Start starts etcd and kube-apiserver (a static token for the admin
// user, system:masters; RBAC authorisation), applies docs/verify-rbac.yaml
// as it is and asks the TokenRequest API for a token of its service
// account, and writes two kubeconfigs: Kubeconfig (admin) and
// ReadOnlyKubeconfig (the service account). The processes get SIGKILL
// when the process that started them ends; Stop ends them sooner.
//
// # Playing the controllers
//
// InstallCRDs installs the published CRDs of Flux's Kustomization and
// HelmRelease and Argo CD's Application (crds/NOTICE). PatchStatus writes
// an object's .status the way a controller does: through the status
// subresource where the kind has one (Flux's kinds, Deployments, Pods),
// and through the object itself where it has none (Argo CD's
// Application, as Argo CD's controller does).
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
package kubecluster
