module github.com/gitship/gitship/tools/corpus

go 1.26.8

require (
	github.com/bitnami/charts v0.0.0-20260907150927-c0703daaf78e
	github.com/grafana-community/helm-charts v0.0.0-20260829030558-dbf9f4fb5fa1
	github.com/prometheus-community/helm-charts v0.0.0-20260828105119-ed5d7d9b5933
	github.com/stefanprodan/podinfo v1.8.1-0.20250910200901-e86405a8674e
	github.com/yannh/kubeconform v0.8.0
)
