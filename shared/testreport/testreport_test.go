package testreport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/finding"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		file                            string
		passed, failed, errors, skipped int
		failures                        []string // titles
	}{
		{"go-junit-report.xml", 1, 1, 0, 1, []string{"example.com/hello.TestHealth"}},
		{"pytest.xml", 2, 1, 1, 0, []string{"tests.test_api.test_total", "tests.test_db.test_connect"}},
		{"surefire-nested.xml", 2, 0, 0, 0, nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			r := parseFile(t, tt.file)
			if r.Passed != tt.passed || r.Failed != tt.failed || r.Errors != tt.errors || r.Skipped != tt.skipped {
				t.Errorf("passed/failed/errors/skipped = %d/%d/%d/%d, want %d/%d/%d/%d",
					r.Passed, r.Failed, r.Errors, r.Skipped, tt.passed, tt.failed, tt.errors, tt.skipped)
			}
			var titles []string
			for _, f := range r.Failures {
				titles = append(titles, f.Title())
			}
			if strings.Join(titles, ",") != strings.Join(tt.failures, ",") {
				t.Errorf("failures = %q, want %q", titles, tt.failures)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, file := range []string{"no-suite.xml", "truncated.xml"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		if r, err := Parse(data); err == nil {
			t.Errorf("Parse(%s) = %+v, want an error: it must not read as all passed", file, r)
		}
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "not-xml.txt"))
	if IsJUnit(data) {
		t.Error("IsJUnit(go test text output) = true")
	}
}

func TestFindings(t *testing.T) {
	r := parseFile(t, "pytest.xml")
	got := r.Findings("/app", "services/api")
	want := []finding.Finding{
		{RuleID: "TEST", Severity: finding.Error, File: "services/api/tests/test_api.py", Line: 7,
			Message: "test tests.test_api.test_total failed: assert 3 == 4"},
		{RuleID: "TEST", Severity: finding.Error, File: "services/api/tests/test_db.py", Line: 12,
			Message: `test tests.test_db.test_connect could not run: failed on setup with "ConnectionRefusedError"`},
	}
	if len(got) != len(want) {
		t.Fatalf("Findings = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finding %d =\n %+v\nwant\n %+v", i, got[i], want[i])
		}
	}
	// Go's report names no file: the annotation has none rather than a
	// wrong one, and carries the failure's text.
	g := parseFile(t, "go-junit-report.xml").Findings("/src", ".")
	if len(g) != 1 || g[0].File != "" || !strings.Contains(g[0].Message, "GET /healthz = 500") {
		t.Errorf("go-junit-report findings = %+v", g)
	}
}

func TestMarkdown(t *testing.T) {
	md := parseFile(t, "pytest.xml").Markdown("Tests")
	for _, want := range []string{"| 4 | 2 | 1 | 1 | 0 | 5ms |", "| tests.test_api.test_total | assert 3 == 4 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

func parseFile(t *testing.T, name string) Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if !IsJUnit(data) {
		t.Fatalf("IsJUnit(%s) = false", name)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return r
}
