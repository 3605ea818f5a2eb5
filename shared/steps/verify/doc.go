// Package verify is the verify step: after the GitOps pull request is
// merged, wait until the cluster runs it and the application answers.
// It reads the Flux Kustomizations and HelmReleases, Argo CD Applications
// and Deployments named on the command line through the Kubernetes API
// (shared/kubeclient, read-only), until each reports the GitOps commit (or
// a descendant of it) ready at its current generation, fails with the
// controller's own message and events, or the time runs out; then probes
// the application's URLs until enough answers in a row are right.
//
// It watches the objects and reads them again at each change, printing
// one line per change of state, never one per poll.
package verify
