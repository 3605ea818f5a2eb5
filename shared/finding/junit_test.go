package finding_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/testreport"
)

func sampleJUnit() finding.JUnit {
	return finding.JUnit{Name: "gitship-validate", Suites: []finding.JUnitSuite{
		{Name: "chart deploy/chart", Cases: []finding.JUnitCase{
			{Name: "Deployment web", ClassName: "deploy/chart/templates/deployment.yaml"},
			{Name: "Service web", ClassName: "deploy/chart/templates/service.yaml", Outcome: finding.Failed,
				Message: "spec.ports[0].port: required field is missing", Type: "VL1001",
				Text: "spec.ports[0].port: required field is missing\nspec.selecter: unknown field"},
		}},
		{Name: "manifests crds.yaml", Cases: []finding.JUnitCase{
			{Name: "CronTab a", ClassName: "crds.yaml", Outcome: finding.Skipped, Message: "no schema for <CronTab> & co"},
			{Name: "Broken b", ClassName: "crds.yaml", Outcome: finding.Errored, Message: "cannot read", Type: "VL1003"},
		}},
		{Name: "manifests empty.yaml"},
	}}
}

// TestJUnitGolden pins the XML: attribute order, counts per suite and in
// all, and escaping of message and text.
func TestJUnitGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleJUnit().Write(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.junit.golden")
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Errorf("JUnit.Write differs from %s:\n%s", golden, buf.String())
	}
}

// TestJUnitReadable reads the report back as the CI test-result readers do
// (go-junit, through testreport) and finds each outcome where it was put.
func TestJUnitReadable(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleJUnit().Write(&buf); err != nil {
		t.Fatal(err)
	}
	rep, err := testreport.Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, buf.String())
	}
	if rep.Passed != 1 || rep.Failed != 1 || rep.Errors != 1 || rep.Skipped != 1 {
		t.Errorf("passed %d failed %d errors %d skipped %d, want 1 of each", rep.Passed, rep.Failed, rep.Errors, rep.Skipped)
	}
	if len(rep.Failures) != 2 || !strings.Contains(rep.Failures[0].Body, "spec.selecter: unknown field") || !rep.Failures[1].Error {
		t.Errorf("failures = %+v", rep.Failures)
	}
}
