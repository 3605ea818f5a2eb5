// Package render turns what a repository deploys (Helm charts, Kustomize
// directories, plain manifest files) into one list of Kubernetes objects,
// each remembering the file a human edits to change it. Validation reports
// and the GitOps commit both start from that list.
package render
