// Package cosign pins sigstore's cosign CLI, the independent verifier of
// what gitship-publish signs and attests (shared/signing): the tests of
// steps/publish and steps/gitops-pr build it once per machine with
// internal/gotool and run `cosign verify --key` and
// `cosign verify-attestation` against the loopback registry.
//
// It is its own module so that cosign's dependencies (hundreds of modules:
// cloud KMS clients, Rekor, Fulcio, TUF) stay out of gitship's go.mod. The
// tool directive keeps `go mod tidy` and `go mod download` complete:
//
//	go mod download
//	GOPROXY=off go build -o cosign github.com/sigstore/cosign/v2/cmd/cosign
//
// GITSHIP_COSIGN names a cosign executable to use instead.
package cosign
