package schema

import (
	"path/filepath"
	"strings"
)

// LocationTemplate is the kubeconform -schema-location (relative to a root
// directory) that finds the files LocationPath names: gitship lays its
// schemas out this way for the kubeconform library, and tools/schemaexport
// for the kubeconform CLI.
const LocationTemplate = "{{ .NormalizedKubernetesVersion }}/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}{{ .StrictSuffix }}.json"

// LocationPath is where, under root, kubeconform expands LocationTemplate
// for kind in apiVersion: Group is the apiVersion's part before "/" ("v1"
// for the core group), the kind is lowercased, "-strict" marks strict
// schemas, and versions get a "v".
func LocationPath(root, k8sVersion, apiVersion, kind string, strict bool) string {
	group, version := apiVersion, apiVersion
	if g, v, ok := strings.Cut(apiVersion, "/"); ok {
		group, version = g, v
	}
	name := strings.ToLower(kind)
	if strict {
		name += "-strict"
	}
	return filepath.Join(root, "v"+strings.TrimPrefix(k8sVersion, "v"), group, version, name+".json")
}
