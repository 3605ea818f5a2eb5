package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/kubetest"
	"github.com/gitship/gitship/internal/steptest"
)

// TestInjection: what the cluster says (a controller's message, an
// event) is printed in the progress lines, the error and the summary; a
// hostile one never becomes a workflow or logging command on GitHub or
// Azure, and the failure is annotated once.
func TestInjection(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	rev := strings.Repeat("c3", 20)
	for _, kind := range []string{"github", "azure"} {
		t.Run(kind, func(t *testing.T) {
			ns := c.Namespace(t)
			obj := kubetest.Create(t, c, ns, kubetest.Kustomization("apps"))
			play(t, c, ns, []change{
				{gvr: kubetest.KustomizationGVR, name: "apps", status: flux(1, "", rev, "Unknown", "Progressing", "applying\n"+steptest.HostileText)},
				{after: 300 * time.Millisecond, do: func(ctx context.Context) error {
					_, err := kubetest.Event(ctx, c, obj, kubetest.EventInfo{Reason: "ReconciliationFailed", Message: "x\n" + steptest.HostileText})
					return err
				}},
				{gvr: kubetest.KustomizationGVR, name: "apps", status: flux(1, "", rev, "False", "ReconciliationFailed", "failed\n"+steptest.HostileText)},
			})
			ws := t.TempDir()
			res := steptest.Run(t, binary, ws, steptest.CIEnv(kind, ws, t.TempDir()),
				"--kubeconfig", c.ReadOnlyKubeconfig, "--revision", rev, "--flux-kustomization", ns+"/apps", "--timeout", "1m")
			if res.Code != 1 || !strings.Contains(res.Stderr, "ReconciliationFailed") {
				t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
			}
			steptest.NoInjection(t, kind, res)
		})
	}
}

// TestGitOpsTokenNotShown: the token that reads --gitops-repo, given as
// --gitops-token or in the URL, is masked and never printed, when the
// repository cannot be read either.
func TestGitOpsTokenNotShown(t *testing.T) {
	c := kubetest.Start(t)
	kubetest.InstallCRDs(t, c)
	dead := strings.Replace(deadServer(t), "https://", "http://", 1)
	const token = "ghs_s3cretT0kenValue"
	for _, args := range [][]string{
		{"--gitops-repo", dead + "/acme/gitops.git", "--gitops-token", token},
		{"--gitops-repo", "http://x-access-token:" + token + "@" + strings.TrimPrefix(dead, "http://") + "/acme/gitops.git"},
	} {
		ws := t.TempDir()
		res := steptest.Run(t, binary, ws, steptest.CIEnv("github", ws, t.TempDir()), append([]string{"--kubeconfig", c.ReadOnlyKubeconfig,
			"--revision", strings.Repeat("d4", 20), "--flux-kustomization", "flux-system/apps"}, args...)...)
		if res.Code != 2 || !strings.Contains(res.Stderr, "clone --gitops-repo") {
			t.Errorf("exit %d, want 2 naming the clone\n%s", res.Code, res.Stderr)
		}
		steptest.NoSecret(t, res, nil, token)
		if !steptest.Masked("github", res)[token] {
			t.Errorf("the token is not masked:\n%s", res.Stdout)
		}
	}
}
