// Command etcd is etcd's server, built from the Go module proxy, for the
// tests that run a real Kubernetes API server (internal/kubetest starts
// it on loopback under the kube-apiserver of tools/kube-apiserver). It is
// what go.etcd.io/etcd/server/v3's own main package is, under the name
// etcd: its own module, so that etcd's dependencies stay out of gitship's
// go.mod.
//
//	go mod download
//	GOPROXY=off go build -o etcd github.com/gitship/gitship/tools/etcd
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
