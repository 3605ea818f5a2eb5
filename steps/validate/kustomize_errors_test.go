package main

import (
	"strings"
	"testing"
)

// A kustomization's errors point at its file and line; a remote base is
// refused offline, before kustomize runs git (which hangs or fails with
// git's own message without network).
func TestKustomizeErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing resource in a base", map[string]string{
			"base/kustomization.yaml":    "resources:\n  - deployment.yaml\n  - servce.yaml\n",
			"base/deployment.yaml":       "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
			"overlay/kustomization.yaml": "namePrefix: dev-\nresources:\n  - ../base\n",
		}, "base/kustomization.yaml:3:5: accumulating resources"},
		{"remote base", map[string]string{
			"overlay/kustomization.yaml": "resources:\n  - github.com/stefanprodan/podinfo/kustomize?ref=6.7.0\n",
		}, "overlay/kustomization.yaml:2:5: github.com/stefanprodan/podinfo/kustomize?ref=6.7.0: remote resource: gitship builds offline and fetches nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, ws, name, content)
			}
			res := run(t, ws, nil, "--kustomize", "overlay")
			noCrash(t, res)
			if res.Code != 1 || !strings.Contains(res.Stdout+res.Stderr, tt.want) {
				t.Errorf("exit code %d, want 1 (as any error in a kustomization) and %q:\n%s%s", res.Code, tt.want, res.Stdout, res.Stderr)
			}
		})
	}
}
