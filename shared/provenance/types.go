package provenance

import "time"

// The types below follow https://github.com/in-toto/attestation/blob/v1.2.0/spec/v1/statement.md,
// resource_descriptor.md and https://slsa.dev/spec/v1.0/provenance field
// for field; empty optional fields are left out.

// InTotoStatement is an in-toto Statement v1 with a SLSA Provenance v1
// predicate.
type InTotoStatement struct {
	Type          string               `json:"_type"`
	Subject       []ResourceDescriptor `json:"subject"`
	PredicateType string               `json:"predicateType"`
	Predicate     Predicate            `json:"predicate"`
}

// ResourceDescriptor is in-toto's description of an artifact: a subject,
// or a dependency of the build.
type ResourceDescriptor struct {
	Name        string            `json:"name,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Predicate is SLSA Provenance v1.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is what was built, and from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   *InternalParameters  `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// ExternalParameters are the inputs of gitship's build type that whoever
// started the run controls: what a verifier checks.
type ExternalParameters struct {
	// Repository is the source repository's URL, without credentials.
	Repository string `json:"repository,omitempty"`
	// Ref is the git ref the run built: refs/heads/main, refs/tags/v1.2.3.
	Ref string `json:"ref,omitempty"`
	// Workflow is the workflow or pipeline that ran the build (ci.Context.Workflow).
	Workflow string `json:"workflow,omitempty"`
	// Dockerfile, Target and Platforms are the build step's --file,
	// --target and --platform, when the build step recorded them.
	Dockerfile string   `json:"dockerfile,omitempty"`
	Target     string   `json:"target,omitempty"`
	Platforms  []string `json:"platforms,omitempty"`
}

// InternalParameters are set by gitship and the CI platform, not by the
// run's author.
type InternalParameters struct {
	// Platform is the CI platform: github, azure, cloudbuild or local.
	Platform string `json:"platform,omitempty"`
	// Builder is what built the image: "BuildKit of the Docker engine",
	// "standalone BuildKit", "classic builder".
	Builder string `json:"builder,omitempty"`
}

// RunDetails is who built, and when.
type RunDetails struct {
	Builder  Builder        `json:"builder"`
	Metadata *BuildMetadata `json:"metadata,omitempty"`
}

// Builder is the trust boundary that ran the build.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// BuildMetadata is the run's invocation and its times.
type BuildMetadata struct {
	InvocationID string    `json:"invocationId,omitempty"`
	StartedOn    time.Time `json:"startedOn,omitzero"`
	FinishedOn   time.Time `json:"finishedOn,omitzero"`
}
