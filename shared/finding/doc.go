// Package finding holds the one type every gitship check reports, a Finding,
// the Rule it breaks, and the report formats (text, json, sarif) a step
// writes them in. It knows nothing about CI platforms: package ci turns a
// Finding into an annotation.
package finding
