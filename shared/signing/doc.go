// Package signing signs, attests, verifies and copies the signatures of
// images in a registry, in the formats cosign, Kyverno, the Sigstore
// policy-controller and Flux read.
//
// A signature is cosign's simple-signing payload, signed with the key of a
// Signer (a cosign key file, or a PEM ECDSA P-256 or Ed25519 key): a layer
// of the image tagged sha256-<hex>.sig beside the signed one. An
// attestation is a DSSE envelope around an in-toto Statement (SLSA
// provenance, an SBOM), a layer of sha256-<hex>.att. This is cosign's tag
// scheme, which every registry takes; cosign appends to an existing .sig or
// .att image rather than replacing it, and so does Sign.
//
// Verify reads them back and checks them with sigstore-go's verifier
// (github.com/sigstore/sigstore-go/pkg/verify) against a Policy: a trusted
// public key, and optionally where the provenance says the image was built
// from. Copy copies them along with a promoted image.
//
// The key handling is sigstore's own (pkg/cryptoutils decrypts cosign's
// scrypt and secretbox key files; pkg/signature signs; pkg/signature/dsse
// makes the envelopes): no hand-written crypto.
package signing
