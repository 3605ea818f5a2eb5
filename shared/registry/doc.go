// Package registry pushes and promotes images with go-containerregistry
// alone: no docker CLI, no daemon. It carries the rules publish keeps:
// every blob and the manifest are uploaded and verified by digest before
// any tag moves; commit-SHA and release tags never move to another digest
// unless asked; a promotion copies by digest and checks the copy is
// identical.
//
// Commit and release tags are written one at a time, conditionally where
// the registry honours If-None-Match, and read back; a tag
// another run set first is a conflict that names both digests, and the
// movable tags (branch, latest, minor and major) are written only after
// every immutable one is in place.
//
// The transport under go-containerregistry retries 429 and 5xx answers
// and broken connections with backoff, honouring Retry-After: the one
// layer that retries, so a request goes out at most 6 times. It refuses
// plain HTTP unless the caller allows it, and counts what it sent, so a
// run can say how many bytes went up and how many blobs were mounted.
package registry
