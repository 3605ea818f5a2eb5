package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/gitship/gitship/internal/imagetest"
	"github.com/gitship/gitship/shared/provenance"
)

// file is one entry of a test layer: content, or a whiteout.
type file struct {
	content []byte
	mode    int64
}

func layer(t *testing.T, files map[string]file) v1.Layer {
	t.Helper()
	var ents []ent
	for name, f := range files {
		ents = append(ents, ent{name: name, mode: f.mode, content: f.content})
	}
	return tarLayer(t, ents...)
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// exampleAppBinary builds examples/app's service, as its Dockerfile does.
func exampleAppBinary(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = filepath.Join("..", "..", "examples", "app")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/app: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// modBinary builds testdata/modbin in this module: a Go binary with
// go-containerregistry among its modules.
func modBinary(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "tool")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/modbin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build testdata/modbin: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// requiredVersion is the version of module path the main module requires.
func requiredVersion(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", path).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

// debianImage is a busybox base with a Debian package database (two
// packages installed, one removed) and /etc/os-release, then the example
// app's binary and a second Go binary with modules (testdata/modbin),
// then a layer that deletes a third Go binary: a whiteout.
func debianImage(t *testing.T) v1.Image {
	t.Helper()
	platform := "linux/" + runtime.GOARCH
	rootfs, err := imagetest.BusyboxRootfs(platform)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imagetest.Image(rootfs, platform, v1.Config{Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	tool := modBinary(t)
	hello := exampleAppBinary(t)
	img, err = mutate.AppendLayers(img,
		layer(t, map[string]file{
			"var/lib/dpkg/status": {content: testdata(t, "dpkg-status")},
			"etc/os-release":      {content: testdata(t, "os-release-debian")},
		}),
		layer(t, map[string]file{
			"hello":              {content: hello, mode: 0o755},
			"usr/local/bin/tool": {content: tool, mode: 0o755},
			"opt/removed/hello":  {content: hello, mode: 0o755},
			"usr/share/doc/x":    {content: []byte("\x7fELF not executable")},
		}),
		layer(t, map[string]file{"opt/removed/.wh.hello": {}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func readSPDX(t *testing.T, data []byte) *spdx.Document {
	t.Helper()
	var doc spdx.Document
	if err := spdxjson.ReadInto(bytes.NewReader(data), &doc); err != nil {
		t.Fatalf("tools-golang json.ReadInto(SPDX) = %v\n%s", err, data)
	}
	return &doc
}

// spdxPackages maps "name version" to the package's purl and source info.
func spdxPackages(doc *spdx.Document) map[string][2]string {
	out := map[string][2]string{}
	for _, p := range doc.Packages {
		purl := ""
		for _, r := range p.PackageExternalReferences {
			if r.RefType == "purl" {
				purl = r.Locator
			}
		}
		out[p.PackageName+" "+p.PackageVersion] = [2]string{purl, p.PackageSourceInfo}
	}
	return out
}

// TestSPDXOfExampleApp: the SBOM of an image holding the example app's
// binary on a Debian-style base lists the app's Go module and standard
// library, the Go modules of a bigger binary, the installed Debian packages
// (not the removed one) and the distribution, and nothing from a file a
// later layer deleted.
func TestSPDXOfExampleApp(t *testing.T) {
	img := debianImage(t)
	digest, _ := img.Digest()
	data, err := Document(context.Background(), img, SPDX, WithName("registry.example/acme/app"), WithToolVersion("v1.0.0"))
	if err != nil {
		t.Fatalf("Document() = %v", err)
	}
	doc := readSPDX(t, data)
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Errorf("spdxlib.ValidateDocument() = %v", err)
	}
	if ids, err := spdxlib.GetDescribedPackageIDs(doc); err != nil || len(ids) != 1 || ids[0] != "Image" {
		t.Errorf("spdxlib.GetDescribedPackageIDs() = %v, %v; want the image", ids, err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DocumentName != "registry.example/acme/app" || doc.CreationInfo == nil ||
		len(doc.CreationInfo.Creators) != 1 || doc.CreationInfo.Creators[0].Creator != "gitship-v1.0.0" {
		t.Errorf("document header = %s %q %+v", doc.SPDXVersion, doc.DocumentName, doc.CreationInfo)
	}
	goVersion, _, _ := strings.Cut(runtime.Version(), " ")
	ggcr := requiredVersion(t, "github.com/google/go-containerregistry")
	pkgs := spdxPackages(doc)
	want := map[string][2]string{
		"registry.example/acme/app " + digest.String(): {"", ""},
		"debian 12": {"", ""},
		"example.com/hello (devel)": {"pkg:golang/example.com/hello@%28devel%29",
			"acquired package info from the Go build information of: /hello"},
		"stdlib " + goVersion: {"pkg:golang/stdlib@" + strings.TrimPrefix(goVersion, "go"),
			"acquired package info from the Go build information of: /hello, /usr/local/bin/tool"},
		"github.com/google/go-containerregistry " + ggcr: {"pkg:golang/github.com/google/go-containerregistry@" + ggcr,
			"acquired package info from the Go build information of: /usr/local/bin/tool"},
		"busybox-static 1:1.35.0-4+deb12u1+b1": {"pkg:deb/debian/busybox-static@1:1.35.0-4%2Bdeb12u1%2Bb1?arch=amd64&distro=debian-12",
			"acquired package info from the dpkg database: /var/lib/dpkg/status"},
		"ca-certificates 20230311+deb12u1": {"pkg:deb/debian/ca-certificates@20230311%2Bdeb12u1?arch=all&distro=debian-12",
			"acquired package info from the dpkg database: /var/lib/dpkg/status"},
	}
	for k, w := range want {
		got, ok := pkgs[k]
		if !ok {
			t.Errorf("SBOM lacks package %q", k)
			continue
		}
		if w[0] != "" && got != w {
			t.Errorf("package %q = %q, want %q", k, got, w)
		}
	}
	for k := range pkgs {
		if strings.HasPrefix(k, "old-tool ") {
			t.Errorf("SBOM lists %q, which dpkg says is removed", k)
		}
	}
	for _, p := range doc.Packages {
		if strings.Contains(p.PackageSourceInfo, "/opt/removed/hello") {
			t.Errorf("SBOM lists %s from /opt/removed/hello, which a later layer deleted", p.PackageName)
		}
	}
	describes := false
	for _, r := range doc.Relationships {
		if r.Relationship == "DESCRIBES" && r.RefA.ElementRefID == "DOCUMENT" && r.RefB.ElementRefID == "Image" {
			describes = true
		}
	}
	if !describes {
		t.Errorf("no DOCUMENT DESCRIBES SPDXRef-Image relationship: %+v", doc.Relationships)
	}
	if strings.Contains(string(data), `\u0026`) {
		t.Error("the document escapes & in package URLs")
	}
}

// TestCycloneDXOfAlpine: CycloneDX 1.6 of an Alpine-style image lists the
// apk packages with Alpine package URLs and the example app's module.
func TestCycloneDXOfAlpine(t *testing.T) {
	img, err := mutate.AppendLayers(mustEmpty(t),
		layer(t, map[string]file{
			"lib/apk/db/installed": {content: testdata(t, "apk-installed")},
			"usr/lib/os-release":   {content: testdata(t, "os-release-alpine")},
			"hello":                {content: exampleAppBinary(t), mode: 0o755},
		}))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	data, err := Document(context.Background(), img, CycloneDX, WithCreated(created))
	if err != nil {
		t.Fatalf("Document() = %v", err)
	}
	validateCycloneDX(t, data)
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("cyclonedx-go Decode() = %v\n%s", err, data)
	}
	if bom.SpecVersion != cdx.SpecVersion1_6 || bom.Metadata == nil || bom.Metadata.Timestamp != "2026-12-07T06:00:00Z" ||
		bom.Metadata.Component == nil || bom.Metadata.Component.Type != cdx.ComponentTypeContainer {
		t.Errorf("BOM header = %v %+v", bom.SpecVersion, bom.Metadata)
	}
	got := map[string]bool{}
	for _, c := range *bom.Components {
		got[string(c.Type)+" "+c.Name+" "+c.Version+" "+c.PackageURL] = true
	}
	for _, want := range []string{
		"operating-system alpine 3.20.3 ",
		"library musl 1.2.5-r0 pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3",
		"library busybox 1.36.1-r29 pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3",
		"library example.com/hello (devel) pkg:golang/example.com/hello@%28devel%29",
	} {
		if !got[want] {
			t.Errorf("BOM lacks component %q; has %v", want, got)
		}
	}
}

// validateCycloneDX checks data against CycloneDX's own JSON schema for
// 1.6, as cyclonedx-go ships it.
func validateCycloneDX(t *testing.T, data []byte) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go").Output()
	if err != nil {
		t.Fatalf("go list -m cyclonedx-go: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "schema")
	c := jsonschema.NewCompiler()
	for url, file := range map[string]string{
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  "bom-1.6.schema.json",
		"http://cyclonedx.org/schema/spdx.schema.json":     "spdx.schema.json",
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": "jsf-0.82.schemax.json",
	} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
	}
	sch, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatalf("compile CycloneDX 1.6 schema: %v", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("the BOM does not validate against CycloneDX 1.6's schema: %v", err)
	}
}

// TestDistrolessStatusD: distroless images list their Debian packages one
// file each in /var/lib/dpkg/status.d, beside md5sums files.
func TestDistrolessStatusD(t *testing.T) {
	img, err := mutate.AppendLayers(mustEmpty(t), layer(t, map[string]file{
		"var/lib/dpkg/status.d/tzdata":         {content: []byte("Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n")},
		"var/lib/dpkg/status.d/libgtk2.0-0":    {content: []byte("Package: libgtk2.0-0\nVersion: 2.24.33-2\nArchitecture: amd64\n")},
		"var/lib/dpkg/status.d/tzdata.md5sums": {content: []byte("0123456789abcdef0123456789abcdef  usr/share/zoneinfo/UTC\n")},
		"etc/os-release":                       {content: testdata(t, "os-release-debian")},
	}))
	if err != nil {
		t.Fatal(err)
	}
	data, err := Document(context.Background(), img, SPDX)
	if err != nil {
		t.Fatalf("Document() = %v", err)
	}
	pkgs := spdxPackages(readSPDX(t, data))
	for _, want := range []string{"tzdata 2024a-0+deb12u1", "libgtk2.0-0 2.24.33-2"} {
		if _, ok := pkgs[want]; !ok {
			t.Errorf("SBOM lacks %q: %v", want, pkgs)
		}
	}
	if len(pkgs) != 4 { // the image, debian, two packages
		t.Errorf("SBOM lists %d packages, want 4: %v", len(pkgs), pkgs)
	}
}

func mustEmpty(t *testing.T) v1.Image {
	t.Helper()
	img, err := imagetest.Image(nil, "linux/"+runtime.GOARCH, v1.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestStatement: the SBOM as an in-toto Statement v1 about the pushed
// image, with the predicate type cosign's --type spdxjson and cyclonedx
// look for.
func TestStatement(t *testing.T) {
	img := mustEmpty(t)
	subject := provenance.Subject{Name: "registry.example/acme/app", Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}}
	for _, f := range []Format{SPDX, CycloneDX} {
		t.Run(string(f), func(t *testing.T) {
			data, err := Statement(context.Background(), img, subject, f)
			if err != nil {
				t.Fatalf("Statement() = %v", err)
			}
			var st struct {
				Type    string `json:"_type"`
				Subject []struct {
					Name   string            `json:"name"`
					Digest map[string]string `json:"digest"`
				} `json:"subject"`
				PredicateType string          `json:"predicateType"`
				Predicate     json.RawMessage `json:"predicate"`
			}
			if err := json.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			if st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != f.PredicateType() ||
				len(st.Subject) != 1 || st.Subject[0].Name != subject.Name || st.Subject[0].Digest["sha256"] != subject.Digest.Hex {
				t.Errorf("statement = %s %s %+v", st.Type, st.PredicateType, st.Subject)
			}
			if !strings.Contains(string(st.Predicate), subject.Name+"@"+subject.Digest.String()) {
				t.Errorf("the document does not name the subject:\n%s", st.Predicate)
			}
		})
	}
	if _, err := Statement(context.Background(), img, provenance.Subject{Name: "r/a"}, SPDX); err == nil {
		t.Error("Statement(subject without digest) = nil error")
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		err  bool
	}{
		{in: "spdx", want: SPDX}, {in: "SPDX-JSON", want: SPDX}, {in: "spdxjson", want: SPDX},
		{in: "cyclonedx", want: CycloneDX}, {in: "cyclonedx-json", want: CycloneDX},
		{in: "syft", err: true}, {in: "", err: true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseFormat(%q) = %q, %v", tt.in, got, err)
		}
	}
}
