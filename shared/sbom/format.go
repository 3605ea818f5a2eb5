package sbom

import (
	"fmt"
	"strings"
)

// Format is an SBOM document format.
type Format string

const (
	// SPDX is SPDX 2.3 JSON, the default.
	SPDX Format = "spdx"
	// CycloneDX is CycloneDX 1.6 JSON.
	CycloneDX Format = "cyclonedx"
)

// ParseFormat reads a format's name as a flag gives it: "spdx" (also
// "spdx-json", "spdxjson") or "cyclonedx" (also "cyclonedx-json").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "spdx", "spdx-json", "spdxjson":
		return SPDX, nil
	case "cyclonedx", "cyclonedx-json", "cyclonedxjson":
		return CycloneDX, nil
	}
	return "", fmt.Errorf("SBOM format %q: want spdx or cyclonedx", s)
}

// PredicateType is the in-toto predicate type of the format's document,
// as cosign attest --type spdxjson / cyclonedx writes it.
func (f Format) PredicateType() string {
	if f == CycloneDX {
		return "https://cyclonedx.org/bom"
	}
	return "https://spdx.dev/Document"
}
