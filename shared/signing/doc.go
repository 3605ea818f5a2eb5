// Package signing signs, attests, verifies and copies the signatures of
// images in a registry, in the formats cosign, Kyverno, the Sigstore
// policy-controller and Flux read.
//
// A signature is cosign's simple-signing payload, signed with the key of a
// Signer (a cosign key file, or a PEM ECDSA P-256 or Ed25519 key). An
// attestation is a DSSE envelope around an in-toto Statement (SLSA
// provenance, an SBOM). Where they go depends on the registry (Scheme):
//   - cosign's tag scheme, which every registry takes: a layer of the
//     image tagged sha256-<hex>.sig (or .att) beside the signed one,
//     appended to what is there as cosign does;
//   - OCI 1.1 referrers, where the registry serves the referrers API: a
//     Sigstore bundle v0.3 per signature or attestation, as
//     `cosign sign --new-bundle-format` writes it.
//
// Verify reads both back and checks them with sigstore-go's verifier
// (github.com/sigstore/sigstore-go/pkg/verify) against a Policy: a trusted
// public key, or a keyless identity (issuer and subject) with a trusted
// root; and optionally where the verified SLSA provenance says the image
// was built from. Copy copies them along with a promoted image.
//
// The key handling is sigstore's own (pkg/cryptoutils decrypts cosign's
// scrypt and secretbox key files; pkg/signature signs; pkg/signature/dsse
// makes the envelopes): no hand-written crypto. Keyless signing (Fulcio,
// Rekor) is not here: Policy verifies keyless signatures made elsewhere.
package signing
