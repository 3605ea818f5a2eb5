// Package provenance writes the SLSA v1 provenance of an image that
// gitship built and publishes, as an in-toto Statement v1, and carries
// what the build step knows of the build to the publish step.
//
// The API publish calls:
//
//	info, err := provenance.ReadBuildInfo(layoutDir) // errors.Is(err, provenance.ErrNoBuildInfo): none there
//	stmt, err := provenance.Statement(provenance.Input{
//		Subject: provenance.Subject{Name: "registry.example/acme/app", Digest: digest},
//		CI:      r.Context(),
//		Build:   &info, // nil for an image from the engine or a tarball
//		Version: step.Version,
//	})
//	// stmt is the JSON of an in-toto Statement v1 with predicateType
//	// https://slsa.dev/provenance/v1: sign it as a DSSE envelope with
//	// payloadType application/vnd.in-toto+json.
//	p, err := provenance.Parse(stmt) // and back, for --require-provenance
//	repo, ref, commit := p.Source()
//
// The build step calls WriteBuildInfo after it wrote its OCI layout: the
// side file gitship-build.json next to index.json holds the base images
// by digest as BuildKit resolved the Dockerfile's FROM lines, and when the
// build started and finished. docs/build.md describes it.
//
// The statement is plain Go structs that follow the in-toto Statement v1
// and SLSA Provenance v1 specifications field for field; the tests read
// every statement back with in-toto's own Go types (protojson, no unknown
// fields) and run their Validate. The in-toto types were not used to write
// it: protojson's output is deliberately unstable in its white space, and
// a statement that is signed and compared in golden files should be the
// same bytes for the same input.
//
// The build type, BuildType, is gitship's; docs/build.md#provenance says
// what its external and internal parameters mean.
package provenance
