// Package lint is the lint step: it finds the Dockerfiles, Helm charts and
// YAML files under the given paths, checks each with its package
// (dockerfile, chartlint, yamlcheck), and reports the findings as CI
// annotations, a report file and a summary.
package lint
