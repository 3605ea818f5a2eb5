package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// swaggerPath is the OpenAPI document the release publishes, in the module
// cache next to the source this binary was built from.
func swaggerPath(version string) (string, error) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "k8s.io", "kubernetes@v"+version, "api", "openapi-spec", "swagger.json"), nil
}

// servedGVKs reads which kinds the release's API server serves. The client
// schemes also register group versions it stopped serving long ago
// (extensions/v1beta1 Ingress, policy/v1beta1 PodDisruptionBudget); a
// manifest using one must find no schema, as it does with kubeconform,
// whose schemas come from this document.
func servedGVKs(path string) (map[schema.GroupVersionKind]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Definitions map[string]struct {
			GVKs []schema.GroupVersionKind `json:"x-kubernetes-group-version-kind"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[schema.GroupVersionKind]bool{}
	for _, d := range doc.Definitions {
		for _, gvk := range d.GVKs {
			out[gvk] = true
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no x-kubernetes-group-version-kind", path)
	}
	return out, nil
}
