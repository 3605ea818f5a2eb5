// Package dockerfile lints Dockerfiles on BuildKit's own parser with
// hadolint's rules.
//
// The Dockerfile is parsed with github.com/moby/buildkit's parser, the one
// docker build uses, so what this package accepts is what the build
// accepts. Rules keep hadolint's IDs, default severities and ignore pragmas
// (# hadolint ignore=..., # hadolint stage ignore=..., # hadolint global
// ignore=...) so that a repository
// can move from hadolint without touching its Dockerfiles or .hadolint.yaml.
// Shell commands in RUN are parsed with mvdan.cc/sh rather than matched with
// regular expressions.
package dockerfile
