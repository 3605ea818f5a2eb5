package kubecluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FluxNamespace is where Flux's bootstrap puts its Kustomizations.
const FluxNamespace = "flux-system"

// Reconciliation is what a GitOps controller applies for one
// environment: a Flux Kustomization that deploys one workload.
type Reconciliation struct {
	// Kustomization is the Kustomization's name in flux-system:
	// "clusters-dev". Reconcile makes it if missing.
	Kustomization string
	// Path is the Kustomization's path in the GitOps repository:
	// "./clusters/dev"; Namespace its targetNamespace, the workload's.
	Path, Namespace string
	// Workload is the Deployment the commit pins, with its image.
	Workload Workload
	// Revision is the revision Flux reports: "main@sha1:<commit>".
	Revision string
}

// Reconciled is what Reconcile left: the Kustomization and the rollout,
// as the server has them.
type Reconciled struct {
	Kustomization *unstructured.Unstructured
	Rollout       *Rollout
}

// Reconcile stands in for Flux's kustomize-controller (and for the
// Deployment controller and the kubelet behind it) once r.Revision is on
// the branch its source follows: it marks the Kustomization as
// reconciling that revision (Ready=Unknown, Progressing, its
// lastAttemptedRevision), rolls the workload out with its image to
// completion, then writes the status Flux writes after a successful
// apply and health check: lastAppliedRevision r.Revision, Ready=True
// (ReconciliationSucceeded) and Healthy=True at the current generation.
// It applies nothing from the repository: the workload is r.Workload.
func Reconcile(ctx context.Context, c *Cluster, r Reconciliation) (*Reconciled, error) {
	if err := c.EnsureNamespace(ctx, FluxNamespace); err != nil {
		return nil, err
	}
	if err := c.EnsureNamespace(ctx, r.Namespace); err != nil {
		return nil, err
	}
	ks, err := c.Dynamic.Resource(KustomizationGVR).Namespace(FluxNamespace).Get(ctx, r.Kustomization, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		obj := object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", FluxNamespace, r.Kustomization)
		obj.Object["spec"] = map[string]any{
			"interval":        "1m",
			"path":            r.Path,
			"prune":           true,
			"targetNamespace": r.Namespace,
			"sourceRef":       map[string]any{"kind": "GitRepository", "name": FluxNamespace},
		}
		ks, err = Create(ctx, c, FluxNamespace, obj)
	}
	if err != nil {
		return nil, fmt.Errorf("kustomization %s/%s: %w", FluxNamespace, r.Kustomization, err)
	}
	gen := ks.GetGeneration()
	if _, err := PatchStatus(ctx, c, KustomizationGVR, FluxNamespace, r.Kustomization, map[string]any{
		"lastAttemptedRevision": r.Revision,
		"conditions": []any{
			Condition("Reconciling", "True", "Progressing", "Reconciliation in progress", gen),
			Condition("Ready", "Unknown", "Progressing", "Reconciliation in progress", gen),
		},
	}); err != nil {
		return nil, err
	}
	rollout, err := RollOut(ctx, c, r.Namespace, r.Workload)
	if err != nil {
		return nil, err
	}
	if rollout.Deployment, err = RolloutComplete(ctx, c, r.Namespace, r.Workload.Name); err != nil {
		return nil, err
	}
	ks, err = PatchStatus(ctx, c, KustomizationGVR, FluxNamespace, r.Kustomization, map[string]any{
		"observedGeneration":    gen,
		"lastAttemptedRevision": r.Revision,
		"lastAppliedRevision":   r.Revision,
		"conditions": []any{
			Condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: "+r.Revision, gen),
			Condition("Healthy", "True", "HealthCheckSucceeded", "Health check passed", gen),
		},
	})
	if err != nil {
		return nil, err
	}
	return &Reconciled{Kustomization: ks, Rollout: rollout}, nil
}
