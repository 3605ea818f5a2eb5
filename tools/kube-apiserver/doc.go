// Package kubeapiserver pins Kubernetes' API server, for the tests that
// talk to a real cluster API (internal/kubetest builds and starts it with
// etcd from tools/etcd).
//
// It is its own module because k8s.io/kubernetes replaces its staging
// modules (k8s.io/api, k8s.io/apiserver, ...) with directories of its own
// repository, which `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.37.2`
// refuses; go.mod here pins each staging module to its published release
// of the same Kubernetes version and names the command with a tool
// directive, so that `go mod tidy` and `go mod download` keep all it needs:
//
//	go mod download
//	GOPROXY=off go build -o kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
package kubeapiserver
