// Package sbom writes the software bill of materials of an image: SPDX 2.3
// JSON (the default) or CycloneDX 1.6 JSON, alone or as an in-toto
// Statement v1 for publish to attach as an attestation.
//
// The API publish calls:
//
//	f, err := sbom.ParseFormat("spdx") // --sbom spdx|cyclonedx
//	doc, err := sbom.Document(ctx, img, f, sbom.WithName(repo), sbom.WithToolVersion(step.Version))
//	stmt, err := sbom.Statement(ctx, img, provenance.Subject{Name: repo, Digest: digest}, f)
//	// stmt's predicateType is f.PredicateType(): https://spdx.dev/Document
//	// or https://cyclonedx.org/bom, what cosign verify-attestation
//	// --type spdxjson / cyclonedx looks for.
//
// img is one image (a v1.Image): for an index, call it for each
// platform's image, with that image's digest as the subject.
//
// What it lists, read from the image's flattened file system
// (go-containerregistry's mutate.Extract, whiteouts applied):
//   - each Go binary's main module, its dependencies (replacements
//     applied) and the Go standard library, from the build information
//     the Go linker embeds, read with the standard library's
//     debug/buildinfo, as `go version -m` does;
//   - Debian packages from dpkg's database (/var/lib/dpkg/status, and
//     distroless's /var/lib/dpkg/status.d/*), parsed with pault.ag/go/debian's
//     control parser;
//   - Alpine packages from apk's database (/lib/apk/db/installed), whose
//     blank-line separated "K:value" records the same parser reads;
//   - the distribution, from /etc/os-release, for the package URLs.
//
// Each package has a package URL (github.com/package-url/packageurl-go);
// the documents are written with spdx/tools-golang and CycloneDX's
// cyclonedx-go. Nothing is fetched, and no license is guessed
// (NOASSERTION): dpkg's and Go's metadata do not carry one.
//
// Why not anchore/syft as a library: measured on this repository (see the
// commit that added this package), linking syft's Go, dpkg and apk
// catalogers alone made gitship-publish 65.5 MB instead of 13.8 MB
// (syft.CreateSBOM: 77.3 MB), because syft's internal file package links
// hashicorp/go-getter with the AWS S3 and Google Cloud Storage clients, and
// it added about 150 modules to go.mod and moved 28 others; this package
// adds 1.9 MB and five modules (with their own dependencies), and moves none.
package sbom
