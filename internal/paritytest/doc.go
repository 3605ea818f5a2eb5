// Package paritytest holds the corpus tests that gitship-validate reaches the
// verdicts kubeconform reaches (helm template | kubeconform -strict, with
// the schemas gitship exports) on real third-party manifests, charts and
// kustomizations. TestCorpusSameVerdictsAsKubeconform takes real charts
// (podinfo, bitnami's, kube-prometheus-stack) from the modules tools/corpus
// pins, with differences explained in testdata/corpus-differences.md;
// TestSameVerdictsAsKubeconform takes copies kept in testdata/, each with
// its licence (testdata/SOURCES.md). docs/validate-parity.md describes both.
package paritytest
