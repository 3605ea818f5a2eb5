package provenance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/gitship/gitship/shared/ci"
)

const (
	// StatementType is the in-toto Statement v1 type.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateType is SLSA Provenance v1's predicate type.
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType says how to read the predicate's parameters: gitship's
	// build step built the image from a Dockerfile in the source
	// repository, in a CI run, and its publish step pushed it.
	// docs/build.md#provenance documents it.
	BuildType = "https://github.com/gitship/gitship/blob/main/docs/build.md#provenance"
	// localBuilder is the builder ID of a run outside CI: it names no run,
	// and a policy that trusts CI builders refuses it.
	localBuilder = "urn:gitship:builder:local"
)

// Subject is what a statement is about: an image by name and digest.
type Subject struct {
	// Name is the image's repository, without tag or digest:
	// "registry.example/acme/app".
	Name string
	// Digest is the sha256 of the image's manifest, or of its index.
	Digest v1.Hash
}

// Input is what a provenance statement is made of.
type Input struct {
	Subject Subject
	// CI is the run that publishes: its platform, run URL and attempt,
	// workflow, source repository, ref and commit.
	CI ci.Context
	// Build is what the build step recorded (ReadBuildInfo); nil when
	// the image did not come from a layout build wrote (an engine image,
	// a docker save tarball): the statement then has no base images and
	// no start and finish times.
	Build *BuildInfo
	// Version is gitship's version, recorded as the builder's.
	Version string
}

// ErrCommitMismatch is a build info whose commit is not the run's: the
// layout was built from another commit than the one being published.
var ErrCommitMismatch = errors.New("the image was built from another commit than this run's")

// Statement returns the in-toto Statement v1 JSON of in's SLSA v1
// provenance. The same input gives the same bytes.
func Statement(in Input) ([]byte, error) {
	st, err := statement(in)
	if err != nil {
		return nil, err
	}
	// Not json.Marshal: it would write the & of a package URL's
	// qualifiers as \u0026.
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(st); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func statement(in Input) (*InTotoStatement, error) {
	if in.Subject.Name == "" {
		return nil, errors.New("provenance: the subject has no name")
	}
	if in.Subject.Digest.Algorithm != "sha256" || len(in.Subject.Digest.Hex) != 64 {
		return nil, fmt.Errorf("provenance: subject %s: digest %q is not a sha256 digest", in.Subject.Name, in.Subject.Digest)
	}
	c := in.CI
	commit := c.SHA
	b := in.Build
	if b == nil {
		b = &BuildInfo{}
	}
	if b.Commit != "" {
		if commit != "" && !strings.EqualFold(commit, b.Commit) {
			return nil, fmt.Errorf("provenance: %w: built from %s, run at %s", ErrCommitMismatch, b.Commit, commit)
		}
		commit = b.Commit
	}
	repo := c.RepositoryURL
	if repo == "" {
		repo = b.Repository
	}
	ref := c.Ref
	if ref == "" {
		ref = b.Ref
	}

	var deps []ResourceDescriptor
	if commit != "" {
		src := ResourceDescriptor{Digest: map[string]string{"gitCommit": strings.ToLower(commit)}}
		if repo != "" {
			src.URI = "git+" + repo
			if ref != "" {
				src.URI += "@" + ref
			}
		}
		deps = append(deps, src)
	}
	for _, bi := range b.BaseImages {
		d, err := bi.descriptor()
		if err != nil {
			return nil, fmt.Errorf("provenance: base image %q: %w", bi.Ref, err)
		}
		deps = append(deps, d)
	}

	var meta *BuildMetadata
	if m := (BuildMetadata{InvocationID: invocationID(c), StartedOn: utc(b.StartedOn), FinishedOn: utc(b.FinishedOn)}); m != (BuildMetadata{}) {
		meta = &m
	}
	builder := Builder{ID: builderID(c)}
	if in.Version != "" {
		builder.Version = map[string]string{"gitship": in.Version}
	}
	return &InTotoStatement{
		Type: StatementType,
		Subject: []ResourceDescriptor{{
			Name:   in.Subject.Name,
			Digest: map[string]string{in.Subject.Digest.Algorithm: in.Subject.Digest.Hex},
		}},
		PredicateType: PredicateType,
		Predicate: Predicate{
			BuildDefinition: BuildDefinition{
				BuildType: BuildType,
				ExternalParameters: ExternalParameters{
					Repository: repo,
					Ref:        ref,
					Workflow:   c.Workflow,
					Dockerfile: b.Dockerfile,
					Target:     b.Target,
					Platforms:  b.Platforms,
				},
				InternalParameters: &InternalParameters{
					Platform: c.Platform,
					Builder:  b.Builder,
				},
				ResolvedDependencies: deps,
			},
			RunDetails: RunDetails{
				Builder:  builder,
				Metadata: meta,
			},
		},
	}, nil
}

// builderID is the run's URL: GitHub's with its attempt, Azure's build
// results page, Cloud Build's build page. A run outside CI has none.
func builderID(c ci.Context) string {
	if c.RunURL == "" || c.Platform == "local" || c.Platform == "" {
		return localBuilder
	}
	return invocationID(c)
}

func invocationID(c ci.Context) string {
	if c.RunURL == "" {
		return ""
	}
	if c.Platform == "github" && c.RunAttempt != "" {
		return c.RunURL + "/attempts/" + c.RunAttempt
	}
	return c.RunURL
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// Parse reads a statement Statement wrote (or any in-toto Statement v1
// with a SLSA v1 predicate): what --require-provenance checks.
func Parse(data []byte) (*InTotoStatement, error) {
	var st InTotoStatement
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("provenance: read statement: %w", err)
	}
	if st.Type != StatementType {
		return nil, fmt.Errorf("provenance: statement type %q, want %q", st.Type, StatementType)
	}
	if st.PredicateType != PredicateType {
		return nil, fmt.Errorf("provenance: predicate type %q, want %q", st.PredicateType, PredicateType)
	}
	return &st, nil
}

// Source is the repository, ref and commit the statement says the image
// was built from: the external parameters' repository and ref, and the
// gitCommit of the resolved dependency that names that repository.
func (st *InTotoStatement) Source() (repository, ref, commit string) {
	p := st.Predicate.BuildDefinition
	repository, ref = p.ExternalParameters.Repository, p.ExternalParameters.Ref
	for _, d := range p.ResolvedDependencies {
		if c := d.Digest["gitCommit"]; c != "" {
			return repository, ref, c
		}
	}
	return repository, ref, ""
}
