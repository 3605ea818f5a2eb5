package sbom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/uuid"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/gitship/gitship/shared/provenance"
)

// Option changes how a document is made.
type Option func(*options)

type options struct {
	name    string
	version string
	created time.Time
}

// WithName names the image in the document (its repository, or a
// reference); the default is the image's digest.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithToolVersion is the gitship version recorded as the document's
// creator tool.
func WithToolVersion(v string) Option { return func(o *options) { o.version = v } }

// WithCreated sets the document's creation time (default: now).
func WithCreated(t time.Time) Option { return func(o *options) { o.created = t } }

// Document returns the SBOM of img's contents in format f.
func Document(ctx context.Context, img v1.Image, f Format, opts ...Option) ([]byte, error) {
	if f != SPDX && f != CycloneDX {
		return nil, fmt.Errorf("sbom: unknown format %q", f)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("sbom: image digest: %w", err)
	}
	o := options{name: digest.String(), version: "dev", created: time.Now()}
	for _, opt := range opts {
		opt(&o)
	}
	o.created = o.created.UTC().Truncate(time.Second)
	inv, err := scan(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("sbom: image %s: %w", digest, err)
	}
	if f == CycloneDX {
		return cycloneDX(inv, digest, o)
	}
	return spdxDocument(inv, digest, o)
}

// Statement returns img's SBOM in format f as the predicate of an in-toto
// Statement v1 about subject: what publish attaches as an attestation.
// The document names the image subject.Name@subject.Digest unless an
// option names it otherwise.
func Statement(ctx context.Context, img v1.Image, subject provenance.Subject, f Format, opts ...Option) ([]byte, error) {
	if subject.Name == "" || subject.Digest.Algorithm != "sha256" || len(subject.Digest.Hex) != 64 {
		return nil, fmt.Errorf("sbom: subject %q %q: want a name and a sha256 digest", subject.Name, subject.Digest)
	}
	opts = append([]Option{WithName(subject.Name + "@" + subject.Digest.String())}, opts...)
	doc, err := Document(ctx, img, f, opts...)
	if err != nil {
		return nil, err
	}
	st := struct {
		Type          string          `json:"_type"`
		Subject       []subjectJSON   `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}{
		Type:          provenance.StatementType,
		Subject:       []subjectJSON{{Name: subject.Name, Digest: map[string]string{"sha256": subject.Digest.Hex}}},
		PredicateType: f.PredicateType(),
		Predicate:     doc,
	}
	return marshal(st)
}

type subjectJSON struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// marshal is json.Marshal without HTML escaping: a package URL's & stays &.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

const noAssertion = "NOASSERTION"

// sourceInfo says where a component's facts come from, per kind.
var sourceInfo = map[string]string{
	kindGo:  "acquired package info from the Go build information of: ",
	kindDeb: "acquired package info from the dpkg database: ",
	kindAPK: "acquired package info from the apk database: ",
}

var notIDChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// spdxID is an SPDX element ID for a component: readable, and unique by
// its package URL.
func spdxID(c component) common.ElementID {
	sum := sha256.Sum256([]byte(c.purl))
	return common.ElementID(notIDChars.ReplaceAllString("Package-"+c.kind+"-"+c.name, "-") + "-" + hex.EncodeToString(sum[:4]))
}

func spdxDocument(inv inventory, digest v1.Hash, o options) ([]byte, error) {
	const root = common.ElementID("Image")
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      o.name,
		DocumentNamespace: "https://github.com/gitship/gitship/sbom/spdx/" + digest.Hex + "/" + uuid.NewString(),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: "gitship-" + o.version}},
			Created:  o.created.Format(time.RFC3339),
		},
	}
	doc.Packages = append(doc.Packages, &spdx.Package{
		PackageName:             o.name,
		PackageSPDXIdentifier:   root,
		PackageVersion:          digest.String(),
		PackageDownloadLocation: noAssertion,
		PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: digest.Hex}},
		PrimaryPackagePurpose:   "CONTAINER",
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
	})
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", string(root)), Relationship: common.TypeRelationshipDescribe,
	})
	if d := inv.distro; d.id != "" {
		id := common.ElementID(notIDChars.ReplaceAllString("OperatingSystem-"+d.id+"-"+d.versionID, "-"))
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName: d.id, PackageSPDXIdentifier: id, PackageVersion: d.versionID, PackageDescription: d.prettyName,
			PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "OPERATING-SYSTEM",
			PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
		})
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(root)), RefB: common.MakeDocElementID("", string(id)), Relationship: common.TypeRelationshipContains,
		})
	}
	for _, c := range inv.components {
		id := spdxID(c)
		purpose := "LIBRARY"
		if c.kind != kindGo {
			purpose = "INSTALL"
		}
		doc.Packages = append(doc.Packages, &spdx.Package{
			PackageName:             c.name,
			PackageSPDXIdentifier:   id,
			PackageVersion:          c.version,
			PackageDownloadLocation: noAssertion,
			PackageSourceInfo:       sourceInfo[c.kind] + joinLocations(c.locations),
			PackageLicenseConcluded: noAssertion,
			PackageLicenseDeclared:  noAssertion,
			PackageCopyrightText:    noAssertion,
			PrimaryPackagePurpose:   purpose,
			PackageExternalReferences: []*spdx.PackageExternalReference{
				{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: c.purl},
			},
		})
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(root)), RefB: common.MakeDocElementID("", string(id)), Relationship: common.TypeRelationshipContains,
		})
	}
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("sbom: write SPDX: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func joinLocations(locs []string) string {
	var b bytes.Buffer
	for i, l := range locs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l)
	}
	return b.String()
}

func cycloneDX(inv inventory, digest v1.Hash, o options) ([]byte, error) {
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + uuid.NewString()
	bom.Metadata = &cdx.Metadata{
		Timestamp: o.created.Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{
			{Type: cdx.ComponentTypeApplication, Name: "gitship", Version: o.version},
		}},
		Component: &cdx.Component{BOMRef: "image", Type: cdx.ComponentTypeContainer, Name: o.name, Version: digest.String()},
	}
	var comps []cdx.Component
	if d := inv.distro; d.id != "" {
		comps = append(comps, cdx.Component{BOMRef: "os:" + d.id + "@" + d.versionID, Type: cdx.ComponentTypeOS,
			Name: d.id, Version: d.versionID, Description: d.prettyName})
	}
	for _, c := range inv.components {
		props := make([]cdx.Property, 0, len(c.locations))
		for _, l := range c.locations {
			props = append(props, cdx.Property{Name: "gitship:location", Value: l})
		}
		comps = append(comps, cdx.Component{BOMRef: c.purl, Type: cdx.ComponentTypeLibrary, Name: c.name,
			Version: c.version, PackageURL: c.purl, Properties: &props})
	}
	bom.Components = &comps
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("sbom: write CycloneDX: %w", err)
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}
