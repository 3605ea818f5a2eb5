package main

// The clusters that cloudbuild.yaml's kubeconfig-dev and verify-dev
// steps, and the gates of deploy-staging.yaml and deploy-production.yaml
// (kubeconfig-dev and verify-dev, kubeconfig-staging and verify-staging),
// talk to: a real kube-apiserver and etcd on loopback (internal/kubetest),
// reached by the steps' containers on the host's network, one namespace
// standing for each environment. The gcloud stand-in answers `gcloud
// container clusters describe` with its endpoint and CA and `gcloud auth
// print-access-token` with the token of the read-only service account of
// docs/verify-rbac.yaml, so verify reads the cluster as a build's service
// account with that RBAC would. No controller runs: playFlux plays Flux's
// kustomize-controller and the kubelet, runs the Deployment controller
// and the kubelet of a finished rollout.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/kubetest"
)

// envCluster is one namespace of the test cluster standing for an
// environment, name (dev, staging): the Flux Kustomization named after it
// and the Deployment "app" in it.
type envCluster struct {
	c    *kubetest.Cluster
	name string
	ns   string
	// env is the gcloud stand-in's environment (Build.Env) for this
	// cluster.
	env []string
}

// oldImage is what an environment ran before the build: another digest
// of the repository publish pushes to.
func oldImage(registry string) string {
	return registry + "/acme/apps/app@sha256:" + strings.Repeat("0", 64)
}

// startDev makes dev as it is before the build: the Kustomization Ready at
// the GitOps repository's revision from, the Deployment rolled out with
// an older image.
func startDev(t *testing.T, registry, from string) *envCluster {
	t.Helper()
	return startEnv(t, registry, "dev", from)
}

// startEnv makes the environment name as startDev makes dev.
func startEnv(t *testing.T, registry, name, from string) *envCluster {
	t.Helper()
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	ns := c.Namespace(t)
	ks := kubetest.Create(t, c, ns, kubetest.Kustomization(name))
	if _, err := kubetest.PatchStatus(context.Background(), c, kubetest.KustomizationGVR, ns, name, fluxApplied(ks.GetGeneration(), from)); err != nil {
		t.Fatal(err)
	}
	e := &envCluster{c: c, name: name, ns: ns, env: []string{
		"CLOUDBUILD_EMULATOR_GKE_ENDPOINT=" + strings.TrimPrefix(c.Server, "https://"),
		"CLOUDBUILD_EMULATOR_GKE_CA=" + base64.StdEncoding.EncodeToString(c.CA),
		"CLOUDBUILD_EMULATOR_ACCESS_TOKEN=" + c.ReadOnly.BearerToken,
	}}
	e.runs(t, oldImage(registry))
	return e
}

// runs plays the Deployment controller and the kubelet for a rollout of
// image that has finished: the Deployment "app" runs it, its pods running
// and ready with the image as their image ID.
func (e *envCluster) runs(t *testing.T, image string) {
	t.Helper()
	ctx := context.Background()
	if _, err := kubetest.RollOut(ctx, e.c, e.ns, kubetest.Workload{Name: "app", Image: image}); err != nil {
		t.Fatal(err)
	}
	if _, err := kubetest.RolloutComplete(ctx, e.c, e.ns, "app"); err != nil {
		t.Fatal(err)
	}
}

// subs are the substitutions naming what verify waits for in this
// environment, _<NAME>_KUSTOMIZATION, _<NAME>_WORKLOAD and _<NAME>_URL
// (url: the endpoint it probes, empty for none): cloudbuild.yaml's
// verify-dev reads dev's, the gate of deploy-staging.yaml (verify-dev)
// dev's workload and URL, deploy-production.yaml's (verify-staging)
// staging's.
func (e *envCluster) subs(url string) map[string]string {
	p := "_" + strings.ToUpper(e.name) + "_"
	return map[string]string{p + "KUSTOMIZATION": e.ns + "/" + e.name, p + "WORKLOAD": e.ns + "/Deployment/app", p + "URL": url}
}

// fluxApplied is a Kustomization's status as kustomize-controller writes
// it once it has applied revision (main@sha1:<commit>) at generation.
func fluxApplied(generation int64, commit string) map[string]any {
	rev := "main@sha1:" + commit
	return map[string]any{
		"observedGeneration":    generation,
		"lastAppliedRevision":   rev,
		"lastAttemptedRevision": rev,
		"conditions": []any{
			kubetest.Condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: "+rev, generation),
		},
	}
}

// playFlux plays Flux and the kubelet for dev from a goroutine until the
// test ends: once main of the bare GitOps repository gitops is at a commit
// other than from and verify-dev has started (it copied gitship-verify
// into the workspace; so verify sees dev as it was first, and waits), and
// 3 seconds later (verify has read dev's state by then), it rolls the
// Deployment out with the image the workspace's publish.json names, its
// pods as pods says (none: running the image), completes the rollout when
// the pods run, and reports the Kustomization Ready at that commit. A
// write that fails fails the test.
func (d *envCluster) playFlux(t *testing.T, ws, gitops, from string, pods []kubetest.Pod) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		var commit string
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			out, err := gittest.Command(gitops, "rev-parse", "--verify", "--quiet", "refs/heads/main").Output()
			if err != nil {
				continue
			}
			commit = strings.TrimSpace(string(out))
			if _, err := os.Stat(filepath.Join(ws, ".gitship", "bin", "gitship-verify")); commit != from && err == nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(3 * time.Second):
		}
		err := func() error {
			var published map[string]string
			data, err := os.ReadFile(filepath.Join(ws, ".gitship", "publish.json"))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(data, &published); err != nil {
				return fmt.Errorf("publish.json: %w", err)
			}
			if _, err := kubetest.RollOut(ctx, d.c, d.ns, kubetest.Workload{Name: "app", Image: published["image"], Pods: pods}); err != nil {
				return err
			}
			if len(pods) == 0 {
				if _, err := kubetest.RolloutComplete(ctx, d.c, d.ns, "app"); err != nil {
					return err
				}
			}
			ks, err := d.c.Dynamic.Resource(kubetest.KustomizationGVR).Namespace(d.ns).Get(ctx, d.name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			_, err = kubetest.PatchStatus(ctx, d.c, kubetest.KustomizationGVR, d.ns, d.name, fluxApplied(ks.GetGeneration(), commit))
			return err
		}()
		if err != nil && ctx.Err() == nil {
			t.Errorf("Flux, played: %v", err)
		}
	}()
}

// flakyEndpoint is the application's endpoint on loopback: it answers 503
// to the first fail probes, then 200; probes counts them all.
func flakyEndpoint(t *testing.T, fail int32) (url string, probes *atomic.Int32) {
	probes = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if probes.Add(1) <= fail {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/healthz", probes
}
