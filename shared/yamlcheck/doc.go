// Package yamlcheck finds what breaks YAML files before a tool reads them
// wrong: syntax errors, duplicate keys (which parsers resolve silently, one
// value winning) and tabs in indentation, each with its line and column.
package yamlcheck
