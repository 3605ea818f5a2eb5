// Package publish is the publish step: push the image build made to a
// registry under its commit's tags, or promote an image already published
// to another repository or registry, by digest, never rebuilt. It needs no
// Docker daemon: registry access is go-containerregistry's (shared/registry).
package publish
