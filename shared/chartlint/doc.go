// Package chartlint runs the Helm SDK's own lint on a chart once per values
// file (one per environment, typically) and turns its messages into
// findings on the chart's files. It is the only lint package that links
// Helm, so steps that do not lint charts stay small.
package chartlint
