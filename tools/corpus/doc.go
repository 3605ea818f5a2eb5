// Package corpus pins the third-party charts, kustomizations and fixtures
// that internal/paritytest's corpus test validates with gitship and with
// kubeconform (TestCorpusSameVerdictsAsKubeconform): the Go module proxy
// serves these GitHub repositories as modules, and a module zip keeps
// every file of the repository at that commit, its LICENSE included.
//
//	github.com/stefanprodan/podinfo               charts/podinfo, kustomize/ (Apache-2.0)
//	github.com/prometheus-community/helm-charts   kube-prometheus-stack, its crds subchart, kube-state-metrics,
//	                                              prometheus-node-exporter, prometheus-windows-exporter (Apache-2.0)
//	github.com/grafana-community/helm-charts      charts/grafana, kube-prometheus-stack's grafana dependency (Apache-2.0)
//	github.com/bitnami/charts                     bitnami/nginx, postgresql, redis and bitnami/common (Apache-2.0)
//	github.com/yannh/kubeconform                  fixtures/ (Apache-2.0)
//
// No Go code imports them: go.mod only requires them, so that
//
//	go mod download
//
// here (.ci/run runs it) puts them in the module cache, and the test finds
// each one's directory offline with `go mod download -json MODULE` run in
// this directory with GOPROXY=off. The test copies what it renders into a
// temporary directory (the module cache is read-only), vendoring each
// chart's dependencies into its charts/ as `helm dependency build` would.
//
// Do not run `go mod tidy` here: with no package importing these modules,
// it drops every requirement. go.mod and go.sum are written by hand (go.sum
// by `go mod download MODULE` for each).
package corpus
