//go:build tools

// Package tools pins the helm CLI (the version of the SDK gitship links)
// that tests run as the reference: helm package, helm repo index
// (repo.IndexDirectory) and helm dependency update, built by
// internal/gotool as Command{Tool: "helm", Module: "helm.sh/helm/v3",
// Package: "helm.sh/helm/v3/cmd/helm", Env: "GITSHIP_HELM"}.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
