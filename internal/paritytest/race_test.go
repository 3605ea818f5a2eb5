//go:build race

package paritytest

// raceEnabled: the race detector slows the YAML parses of
// kube-prometheus-stack's 4.5 MB of CRDs tenfold, so `go test -race` runs a
// part of the corpus (TestCorpusSameVerdictsAsKubeconform says which) and
// `make test-offline`, without -race, all of it.
const raceEnabled = true
