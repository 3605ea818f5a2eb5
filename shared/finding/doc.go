// Package finding holds the one type every gitship check reports, a Finding,
// the Rule it breaks, and the report formats a step writes: a Report of
// findings as text, json or sarif, and a JUnit report of test cases, the
// passed ones too. It knows nothing about CI platforms: package ci turns a
// Finding into an annotation.
package finding
