// Package ci speaks to the CI system a step runs on. Detect picks the
// Platform (GitHub Actions, Azure Pipelines, Cloud Build, or local) from the
// environment; each Platform reads the run's Context (commit, branch, tag,
// pull request, run URL...) and writes outputs, annotations, log groups,
// masks and summaries the way that system expects. Steps never ask which
// platform they are on.
package ci
