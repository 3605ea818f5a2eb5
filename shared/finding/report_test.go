package finding

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/sariftest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleReport() Report {
	fs := []Finding{
		{RuleID: "DL3006", Severity: Warning, File: "app/Dockerfile", Line: 1, Column: 1, Message: `base image "golang" has no tag`},
		{RuleID: "YL002", Severity: Error, File: "deploy/values.yaml", Line: 4, Column: 3, EndLine: 4, EndColumn: 8, Message: `duplicate key "image" (first at line 2)`},
		{RuleID: "HL1001", Severity: Info, File: "chart/Chart.yaml", Message: "icon is recommended"},
	}
	Sort(fs)
	return Report{
		Tool: "gitship-lint", Version: "test", InformationURI: "https://github.com/gitship/gitship",
		Rules: []Rule{
			{ID: "DL3006", Name: "image-untagged", Severity: Warning, Summary: "Always tag the version of an image explicitly.", HelpURI: "https://github.com/hadolint/hadolint/wiki/DL3006"},
			{ID: "HL1001", Name: "chart-metadata", Severity: Info, Summary: "Chart.yaml as helm lint checks it."},
			{ID: "YL002", Name: "yaml-duplicate-key", Severity: Error, Summary: "A key appears twice in one mapping; only one value wins."},
		},
		Findings: fs,
	}
}

func TestWriteGolden(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := sampleReport().Write(&buf, format); err != nil {
				t.Fatalf("Write(%s) = %v", format, err)
			}
			golden := filepath.Join("testdata", "report."+format+".golden")
			if *update {
				os.WriteFile(golden, buf.Bytes(), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("Write(%s) differs from %s:\n%s", format, golden, buf.String())
			}
		})
	}
}

func TestSortMostImportantFirst(t *testing.T) {
	fs := sampleReport().Findings
	if fs[0].Severity != Error || fs[len(fs)-1].Severity != Info {
		t.Errorf("Sort put %v first and %v last", fs[0].Severity, fs[len(fs)-1].Severity)
	}
}

// TestSARIFSchema validates the output against the SARIF 2.1.0 schema, with
// and without findings.
func TestSARIFSchema(t *testing.T) {
	empty := sampleReport()
	empty.Findings = nil
	for name, rep := range map[string]Report{"findings": sampleReport(), "no findings": empty} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := rep.Write(&buf, "sarif"); err != nil {
				t.Fatal(err)
			}
			if name == "no findings" && !strings.Contains(buf.String(), `"results": []`) {
				t.Errorf("SARIF without findings lacks an empty results list")
			}
			if err := sariftest.Validate(buf.Bytes()); err != nil {
				t.Errorf("SARIF output does not match the 2.1.0 schema: %v", err)
			}
		})
	}
}

func TestSchemaCatchesBadSARIF(t *testing.T) {
	bad := `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"level":"fatal","message":{"text":"m"}}]}]}`
	if err := sariftest.Validate([]byte(bad)); err == nil || !strings.Contains(err.Error(), "level") {
		t.Errorf("Validate(bad level) = %v, want an error about level", err)
	}
}

// TestSARIFCodeScanningFields checks what GitHub code scanning requires
// beyond the schema: version, tool name, rules with descriptions and help,
// results with ruleId, level, message and a relative URI with a start line.
func TestSARIFCodeScanningFields(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().Write(&buf, "sarif"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string            `json:"id"`
						ShortDescription map[string]string `json:"shortDescription"`
						FullDescription  map[string]string `json:"fullDescription"`
						Help             map[string]string `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string            `json:"ruleId"`
				Level     string            `json:"level"`
				Message   map[string]string `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || doc.Schema == "" || len(doc.Runs) != 1 {
		t.Fatalf("version %q schema %q runs %d", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name != "gitship-lint" {
		t.Errorf("driver name = %q", run.Tool.Driver.Name)
	}
	for _, r := range run.Tool.Driver.Rules {
		if r.ID == "" || r.ShortDescription["text"] == "" || r.FullDescription["text"] == "" || r.Help["text"] == "" {
			t.Errorf("rule %+v lacks id, descriptions or help", r)
		}
	}
	if len(run.Results) != 3 {
		t.Fatalf("results = %d, want 3", len(run.Results))
	}
	levels := map[string]bool{"error": true, "warning": true, "note": true}
	for _, res := range run.Results {
		if res.RuleID == "" || !levels[res.Level] || res.Message["text"] == "" || len(res.Locations) != 1 {
			t.Errorf("result %+v lacks ruleId, level, message or location", res)
			continue
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI == "" || strings.HasPrefix(loc.ArtifactLocation.URI, "/") || loc.Region.StartLine < 1 {
			t.Errorf("result location %+v: want a relative uri and startLine >= 1", loc)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{"error": Error, "Warning": Warning, "style": Info, "none": None} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSeverity("fatal"); err == nil || !strings.Contains(err.Error(), `"fatal"`) {
		t.Errorf("ParseSeverity(fatal) error = %v, want it to name the value", err)
	}
}

// A finding about no file reads "severity: message", without a dangling colon.
func TestStringWithoutFile(t *testing.T) {
	for _, tc := range []struct {
		f    Finding
		want string
	}{
		{Finding{Severity: Warning, Message: "cache not written", RuleID: "BUILD"}, "warning: cache not written [BUILD]"},
		{Finding{File: "Dockerfile", Line: 3, Severity: Error, Message: "bad"}, "Dockerfile:3: error: bad"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
