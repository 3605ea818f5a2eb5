// Package validate is the validate step: its inputs, its flow (render,
// validate through shared/validation, report) and its outputs, the
// reports (text, JSON, JUnit, SARIF) and the step summary.
package validate
