package pipelines_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/kubetest"
)

// envs are the example's environments: each deploy job's verify waits
// for the Flux Kustomization flux-system/<env>, which applies
// clusters/<env>/ of the GitOps repository into the namespace
// hello-<env>, and for the Deployment hello there.
var envs = []string{"dev", "staging", "production"}

// appFailures is how many probes of each health URL the application's
// server answers 503 before it answers 200.
const appFailures = 2

// clusterPlay is a real API server (internal/kubetest) standing in for
// the three environments' clusters, with the test playing the
// controllers on it, and the application's health endpoints.
type clusterPlay struct {
	c   *kubetest.Cluster
	app *httptest.Server

	mu sync.Mutex
	// applied is the GitOps commit the test, as Flux, applied to each
	// environment, and images the image it rolled out there.
	applied, images map[string]string
	// probes counts the requests to each health URL path.
	probes map[string]int
}

func (p *clusterPlay) appliedTo(env string) (commit, image string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied[env], p.images[env]
}

func (p *clusterPlay) probesOf(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.probes[path]
}

// manifestImage is an image by digest in a rendered manifest.
var manifestImage = regexp.MustCompile(`(?m)^\s*image:\s*["']?([^"'\s]+@sha256:[0-9a-f]{64})`)

// playCluster starts (or reuses) the test binary's API server, installs
// Flux's CRDs, and sets up each environment as Flux would have left it
// after an earlier deploy: the Kustomization flux-system/<env> Ready at
// repo's current main, the Deployment hello-<env>/hello rolled out with
// an earlier image. Then, until the test ends, it plays Flux's
// kustomize-controller and the kubelet: when main of repo (the GitOps
// repository) gets a commit that changes clusters/<env>/, it rolls the
// Deployment out with the image the commit's manifests pin, completes the
// rollout, and reports the commit applied and the Kustomization Ready.
// The application's server answers 503 to the first appFailures probes of
// each path, then 200.
func playCluster(t *testing.T, repo string) *clusterPlay {
	t.Helper()
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	p := &clusterPlay{c: c, applied: map[string]string{}, images: map[string]string{}, probes: map[string]int{}}

	p.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.probes[r.URL.Path]++
		n := p.probes[r.URL.Path]
		p.mu.Unlock()
		if n <= appFailures {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(p.app.Close)

	ctx := context.Background()
	initial := gittest.Head(t, repo, "main")
	previous := "registry.invalid/acme/hello@sha256:" + fmt.Sprintf("%x", sha256.Sum256([]byte("the previous release")))
	generation := map[string]int64{}
	for _, env := range envs {
		// Server-side apply: a second run of the test in this test
		// binary (-count) finds them and starts from the same state.
		var manifests strings.Builder
		for _, ns := range []string{"flux-system", "hello-" + env} {
			fmt.Fprintf(&manifests, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n---\n", ns)
		}
		fmt.Fprintf(&manifests, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %[1]s
  namespace: flux-system
spec:
  interval: 1m
  path: ./clusters/%[1]s
  prune: true
  targetNamespace: hello-%[1]s
  sourceRef:
    kind: GitRepository
    name: gitops
`, env)
		objs, err := kubetest.Apply(ctx, c.Dynamic, []byte(manifests.String()))
		if err != nil {
			t.Fatal(err)
		}
		generation[env] = objs[len(objs)-1].GetGeneration()
		if err := p.apply(ctx, env, initial, previous, generation[env]); err != nil {
			t.Fatal(err)
		}
	}

	done := make(chan struct{})
	stopped := make(chan struct{})
	t.Cleanup(func() { close(done); <-stopped })
	go func() {
		defer close(stopped)
		seen := initial
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			head, err := git(repo, "rev-parse", "--verify", "refs/heads/main")
			if err != nil || head == seen {
				continue
			}
			changed, err := git(repo, "diff", "--name-only", seen, head)
			if err != nil {
				t.Errorf("flux: %v", err)
				return
			}
			seen = head
			// Flux notices a commit at its next interval, not at once:
			// verify, when it has started by then, sees the earlier
			// state first (the previous commit Ready, which must not
			// count).
			select {
			case <-done:
				return
			case <-time.After(5 * time.Second):
			}
			for _, env := range envs {
				if !strings.Contains("\n"+changed, "\nclusters/"+env+"/") {
					continue
				}
				image, err := pinnedImage(repo, head, "clusters/"+env)
				if err == nil {
					err = p.apply(ctx, env, head, image, generation[env])
				}
				if err != nil {
					t.Errorf("flux: %s at %s: %v", env, head, err)
				}
			}
		}
	}()
	return p
}

// apply plays Flux applying commit to env and the kubelet running image:
// the Deployment hello-<env>/hello rolled out with image and complete,
// then the Kustomization's status as kustomize-controller writes it
// after a successful apply.
func (p *clusterPlay) apply(ctx context.Context, env, commit, image string, generation int64) error {
	ns := "hello-" + env
	if _, err := kubetest.RollOut(ctx, p.c, ns, kubetest.Workload{Name: "hello", Image: image}); err != nil {
		return err
	}
	if _, err := kubetest.RolloutComplete(ctx, p.c, ns, "hello"); err != nil {
		return err
	}
	revision := "main@sha1:" + commit
	if _, err := kubetest.PatchStatus(ctx, p.c, kubetest.KustomizationGVR, "flux-system", env, map[string]any{
		"observedGeneration":    generation,
		"lastAppliedRevision":   revision,
		"lastAttemptedRevision": revision,
		"conditions": []any{
			kubetest.Condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: "+revision, generation),
		},
	}); err != nil {
		return err
	}
	p.mu.Lock()
	p.applied[env], p.images[env] = commit, image
	p.mu.Unlock()
	return nil
}

// pinnedImage is the one image by digest the manifests under dir of
// commit in repo pin.
func pinnedImage(repo, commit, dir string) (string, error) {
	files, err := git(repo, "ls-tree", "-r", "--name-only", commit, dir+"/")
	if err != nil {
		return "", err
	}
	images := map[string]bool{}
	for _, f := range strings.Fields(files) {
		content, err := git(repo, "show", commit+":"+f)
		if err != nil {
			return "", err
		}
		for _, m := range manifestImage.FindAllStringSubmatch(content, -1) {
			images[m[1]] = true
		}
	}
	if len(images) != 1 {
		return "", fmt.Errorf("the manifests under %s pin %d images by digest, want 1: %v", dir, len(images), images)
	}
	for image := range images {
		return image, nil
	}
	panic("unreachable")
}
