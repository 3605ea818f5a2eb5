// Package paritytest holds the corpus test that gitship-validate reaches the
// verdicts kubeconform reaches (helm template | kubeconform -strict, with
// the schemas gitship exports) on real third-party manifests, charts and
// kustomizations: testdata/ keeps copies of them, each with its licence,
// and testdata/SOURCES.md says where each comes from.
package paritytest
