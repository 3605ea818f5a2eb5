// Package registry pushes and promotes images with go-containerregistry
// alone: no docker CLI, no daemon. It carries the rules publish keeps:
// every blob and the manifest are uploaded and verified by digest before
// any tag moves; commit-SHA and release tags never move to another digest
// unless asked; a promotion copies by digest and checks the copy is
// identical.
//
// The transport under go-containerregistry retries 429 and 5xx answers
// and broken connections with backoff, honouring Retry-After, refuses
// plain HTTP unless the caller allows it, and counts what it sent, so a
// run can say how many bytes went up and how many blobs were mounted.
package registry
