package provenance

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gitship/gitship/shared/ci"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	commit = "0123456789abcdef0123456789abcdef01234567"
	hexA   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hexB   = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	hexC   = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
)

// buildInfo is what a build of examples/app's Dockerfile records: a Go
// builder stage pulled by tag, a runtime base pinned by digest, and a
// local image the engine knows by ID only.
func buildInfo() *BuildInfo {
	return &BuildInfo{
		Version: 1, Image: "sha256:" + hexA, Commit: commit,
		Repository: "https://github.com/acme/app", Ref: "refs/heads/main",
		Dockerfile: "Dockerfile", Platforms: []string{"linux/amd64"},
		Builder: "BuildKit of the Docker engine",
		BaseImages: []BaseImage{
			{Ref: "docker.io/library/golang:1.26-bookworm", Digest: "sha256:" + hexB, Platform: "linux/amd64"},
			{Ref: "gcr.io/distroless/static-debian12@sha256:" + hexC, Digest: "sha256:" + hexC, Platform: "linux/amd64"},
			{Ref: "127.0.0.1:5000/gitship-test/busybox:1", ImageID: "sha256:" + hexA, Platform: "linux/amd64"},
		},
		StartedOn:  time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC),
		FinishedOn: time.Date(2026, 12, 7, 7, 1, 30, 500000000, time.FixedZone("CET", 3600)),
	}
}

func TestStatementGolden(t *testing.T) {
	subject := Subject{Name: "registry.example/acme/app", Digest: v1.Hash{Algorithm: "sha256", Hex: hexA}}
	tests := []struct {
		name  string
		ci    ci.Context
		build *BuildInfo
	}{
		{
			name: "github",
			ci: ci.Context{Platform: "github", SHA: commit, Ref: "refs/heads/main", RepositoryURL: "https://github.com/acme/app",
				RunID: "42", RunURL: "https://github.com/acme/app/actions/runs/42", RunAttempt: "2",
				Workflow: "acme/app/.github/workflows/ci.yml@refs/heads/main"},
			build: buildInfo(),
		},
		{
			name: "azure",
			ci: ci.Context{Platform: "azure", SHA: commit, Ref: "refs/heads/main", RepositoryURL: "https://dev.azure.com/org/proj/_git/app",
				RunID: "99", RunURL: "https://dev.azure.com/org/My%20Proj/_build/results?buildId=99",
				Workflow: "https://dev.azure.com/org/My%20Proj/_build?definitionId=7"},
			build: buildInfo(),
		},
		{
			name: "cloudbuild",
			ci: ci.Context{Platform: "cloudbuild", SHA: commit, Ref: "refs/tags/v1.2.3", Tag: "v1.2.3",
				RepositoryURL: "https://github.com/acme/app", RunID: "b-1",
				RunURL:   "https://console.cloud.google.com/cloud-build/builds;region=europe-west1/b-1?project=proj",
				Workflow: "cloudbuild/ci.yaml"},
			build: buildInfo(),
		},
		{
			// Outside CI: no run, so no builder a policy trusts; an image
			// from the engine: no build info.
			name: "local",
			ci: ci.Context{Platform: "local", SHA: commit, Ref: "refs/heads/feature/x",
				RepositoryURL: "https://github.com/acme/app"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Statement(Input{Subject: subject, CI: tt.ci, Build: tt.build, Version: "v1.0.0"})
			if err != nil {
				t.Fatalf("Statement() = %v", err)
			}
			validate(t, got)
			again, _ := Statement(Input{Subject: subject, CI: tt.ci, Build: tt.build, Version: "v1.0.0"})
			if !bytes.Equal(got, again) {
				t.Errorf("Statement() twice gave different bytes:\n%s\n%s", got, again)
			}
			golden(t, filepath.Join("testdata", tt.name+".json"), got)
		})
	}
}

// validate reads the statement with in-toto's own Go types, refusing
// unknown fields, and runs their checks.
func validate(t *testing.T, data []byte) {
	t.Helper()
	var st intoto.Statement
	if err := protojson.Unmarshal(data, &st); err != nil {
		t.Fatalf("in-toto Statement: protojson.Unmarshal() = %v\n%s", err, data)
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("in-toto Statement.Validate() = %v", err)
	}
	pred, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	var p slsa.Provenance
	if err := protojson.Unmarshal(pred, &p); err != nil {
		t.Fatalf("SLSA Provenance: protojson.Unmarshal() = %v\n%s", err, pred)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("SLSA Provenance.Validate() = %v", err)
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("statement differs from %s (go test -update rewrites it):\n%s", path, buf.Bytes())
	}
}

func TestStatementParseSource(t *testing.T) {
	c := ci.Context{Platform: "github", SHA: commit, Ref: "refs/heads/main", RepositoryURL: "https://github.com/acme/app",
		RunURL: "https://github.com/acme/app/actions/runs/42"}
	data, err := Statement(Input{Subject: Subject{Name: "r/a", Digest: v1.Hash{Algorithm: "sha256", Hex: hexA}}, CI: c, Build: buildInfo()})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if repo, ref, sha := st.Source(); repo != c.RepositoryURL || ref != c.Ref || sha != commit {
		t.Errorf("Source() = %q, %q, %q; want %q, %q, %q", repo, ref, sha, c.RepositoryURL, c.Ref, commit)
	}
	if _, err := Parse([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://spdx.dev/Document"}`)); err == nil ||
		!strings.Contains(err.Error(), "spdx") {
		t.Errorf("Parse(an SBOM statement) = %v, want an error naming its predicate type", err)
	}
}

func TestStatementRefuses(t *testing.T) {
	good := v1.Hash{Algorithm: "sha256", Hex: hexA}
	other := buildInfo()
	other.Commit = "fedcba9876543210fedcba9876543210fedcba98"
	tests := []struct {
		name   string
		in     Input
		is     error
		errHas string
	}{
		{name: "no subject name", in: Input{Subject: Subject{Digest: good}}, errHas: "no name"},
		{name: "not sha256", in: Input{Subject: Subject{Name: "r/a", Digest: v1.Hash{Algorithm: "sha512", Hex: hexA}}}, errHas: "not a sha256"},
		{
			// A layout built from another commit must not be published
			// with this run's provenance.
			name:   "built from another commit",
			in:     Input{Subject: Subject{Name: "r/a", Digest: good}, CI: ci.Context{Platform: "github", SHA: commit}, Build: other},
			is:     ErrCommitMismatch,
			errHas: "built from fedcba9876543210fedcba9876543210fedcba98, run at " + commit,
		},
		{
			name:   "bad base image",
			in:     Input{Subject: Subject{Name: "r/a", Digest: good}, Build: &BuildInfo{BaseImages: []BaseImage{{Ref: "app:bad tag"}}}},
			errHas: `base image "app:bad tag"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Statement(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.errHas) || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Statement() = %v, want an error with %q", err, tt.errHas)
			}
		})
	}
}
