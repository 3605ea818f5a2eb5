// Package gitopspr is the gitops-pr step: render the app for one
// environment, pin the published image by digest, validate, write the
// result into the GitOps repository at a managed path, commit, and open or
// update the pull request reviewers approve (or commit straight to the base
// branch for an environment that deploys without review).
//
// Git work is shared/gitops's, pull requests shared/forge's; this package
// decides what goes in: the files, the commit message and its trailers, the
// pull request's title and body with the diff.
package gitopspr
