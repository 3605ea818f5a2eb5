package testreport

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	junit "github.com/joshdk/go-junit"

	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/markdown"
)

// Report is a parsed test report.
type Report struct {
	Passed, Failed, Errors, Skipped int
	Duration                        time.Duration
	// Failures are the failed and errored tests, in report order.
	Failures []Failure
}

// Total is the number of tests.
func (r Report) Total() int { return r.Passed + r.Failed + r.Errors + r.Skipped }

// Failure is one failed test.
type Failure struct {
	Suite   string
	Class   string // classname: a Go package, a Java class, a Python module
	Name    string
	Message string // the failure's message attribute
	Body    string // the failure's text: assertion output, stack trace
	Error   bool   // an <error> (the test could not run) rather than a <failure>
	File    string // from the testcase's file attribute, where the tool sets it
	Line    int
}

// Title names the test as a reader looks for it: "pkg.TestName".
func (f Failure) Title() string {
	if f.Class == "" || strings.HasPrefix(f.Name, f.Class) {
		return f.Name
	}
	return f.Class + "." + f.Name
}

// Detail is what went wrong: the failure's message, or its text when the
// message says no more than "Failed" (go-junit-report's).
func (f Failure) Detail() string {
	switch strings.ToLower(strings.TrimSpace(f.Message)) {
	case "", "failed", "failure", "error":
		return strings.TrimSpace(firstNonEmpty(f.Body, f.Message))
	}
	return strings.TrimSpace(f.Message)
}

// IsJUnit says whether data looks like XML, the only report format read.
func IsJUnit(data []byte) bool {
	data = bytes.TrimLeft(data, "\ufeff \t\r\n")
	return bytes.HasPrefix(data, []byte("<"))
}

// Parse reads a JUnit XML report. A document with no test suite at all is
// an error: a report that says nothing must not read as "all passed".
func Parse(data []byte) (Report, error) {
	suites, err := junit.Ingest(data)
	if err != nil {
		return Report{}, fmt.Errorf("not JUnit XML: %w", err)
	}
	if len(suites) == 0 {
		return Report{}, fmt.Errorf("not JUnit XML: no <testsuite> element")
	}
	var r Report
	for _, s := range suites {
		r.add(s)
	}
	return r, nil
}

func (r *Report) add(s junit.Suite) {
	for _, t := range s.Tests {
		r.Duration += t.Duration
		switch t.Status {
		case junit.StatusPassed:
			r.Passed++
		case junit.StatusSkipped:
			r.Skipped++
		case junit.StatusFailed, junit.StatusError:
			f := Failure{Suite: s.Name, Class: t.Classname, Name: t.Name, Message: t.Message,
				Error: t.Status == junit.StatusError, File: t.Properties["file"]}
			if e, ok := t.Error.(junit.Error); ok {
				f.Body = e.Body
				if f.Message == "" {
					f.Message = e.Message
				}
			}
			f.Line, _ = strconv.Atoi(t.Properties["line"])
			if f.Error {
				r.Errors++
			} else {
				r.Failed++
			}
			r.Failures = append(r.Failures, f)
		}
	}
	for _, sub := range s.Suites {
		r.add(sub)
	}
}

// maxBody bounds the failure text carried into an annotation or the
// summary: enough for an assertion and the top of a stack trace.
const maxBody = 2000

// Findings are one error annotation per failed test, at its file and line
// when the report names them. Paths inside the container mean nothing to
// the CI: an absolute path is kept only when it lies under srcRoot (the
// stage's WORKDIR, say), made relative to the repository as contextDir.
func (r Report) Findings(srcRoot, contextDir string) []finding.Finding {
	var out []finding.Finding
	for _, f := range r.Failures {
		what := "failed"
		if f.Error {
			what = "could not run"
		}
		msg := fmt.Sprintf("test %s %s", f.Title(), what)
		if detail := f.Detail(); detail != "" {
			msg += ": " + truncate(detail, maxBody)
		}
		fd := finding.Finding{RuleID: "TEST", Severity: finding.Error, Message: msg}
		if file := repoPath(f.File, srcRoot, contextDir); file != "" {
			fd.File, fd.Line = file, f.Line
		}
		out = append(out, fd)
	}
	return out
}

// repoPath maps a file named in the report to a repository path, or "".
func repoPath(file, srcRoot, contextDir string) string {
	if file == "" {
		return ""
	}
	file = path.Clean(strings.ReplaceAll(file, "\\", "/"))
	if path.IsAbs(file) {
		root := path.Clean(srcRoot)
		if srcRoot == "" || !strings.HasPrefix(file, strings.TrimSuffix(root, "/")+"/") {
			return ""
		}
		file = strings.TrimPrefix(file, strings.TrimSuffix(root, "/")+"/")
	}
	if strings.HasPrefix(file, "../") {
		return ""
	}
	return path.Join(contextDir, file)
}

// maxListed bounds the failed tests listed in the summary.
const maxListed = 50

// Markdown is the summary: totals, then the failed tests.
func (r Report) Markdown(title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", title)
	b.WriteString("| Tests | Passed | Failed | Errors | Skipped | Time |\n|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %s |\n", r.Total(), r.Passed, r.Failed, r.Errors, r.Skipped,
		r.Duration.Round(time.Millisecond))
	if len(r.Failures) == 0 {
		return b.String()
	}
	b.WriteString("\n| Failed test | Message |\n|---|---|\n")
	for i, f := range r.Failures {
		if i == maxListed {
			fmt.Fprintf(&b, "| … and %d more | |\n", len(r.Failures)-maxListed)
			break
		}
		fmt.Fprintf(&b, "| %s | %s |\n", markdown.Cell(f.Title()),
			markdown.Cell(truncate(f.Detail(), 300)))
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
