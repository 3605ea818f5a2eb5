package finding

import (
	"encoding/xml"
	"io"
)

// Outcome is how one JUnit test case ended.
type Outcome int

// Outcomes of a test case.
const (
	Passed  Outcome = iota
	Failed          // the check ran and found a problem: <failure>
	Errored         // the check could not run: <error>
	Skipped         // the check was not run: <skipped>
)

// JUnit is a report in JUnit XML as Jenkins, GitLab, Azure's
// PublishTestResults and the GitHub test-report actions read it. Unlike a
// Report it lists what passed too: one test case per thing checked.
type JUnit struct {
	Name   string // the testsuites name, e.g. "gitship-validate"
	Suites []JUnitSuite
}

// JUnitSuite groups test cases, e.g. the resources of one source.
type JUnitSuite struct {
	Name  string
	Cases []JUnitCase
}

// JUnitCase is one test case. Message, Type and Text describe a case that
// did not pass; Type is left out when empty, as is Text.
type JUnitCase struct {
	Name, ClassName string
	Outcome         Outcome
	Message, Type   string
	Text            string
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Write renders the report, with the counts of every suite and of the
// whole, as indented XML after the XML declaration.
func (j JUnit) Write(w io.Writer) error {
	doc := junitSuites{Name: j.Name}
	for _, s := range j.Suites {
		out := junitSuite{Name: s.Name}
		for _, c := range s.Cases {
			tc := junitCase{Name: c.Name, ClassName: c.ClassName}
			msg := &junitMessage{Message: c.Message, Type: c.Type, Text: c.Text}
			switch c.Outcome {
			case Failed:
				tc.Failure = msg
				out.Failures++
			case Errored:
				tc.Error = msg
				out.Errors++
			case Skipped:
				tc.Skipped = msg
				out.Skipped++
			}
			out.Tests++
			out.Cases = append(out.Cases, tc)
		}
		doc.Tests += out.Tests
		doc.Failures += out.Failures
		doc.Errors += out.Errors
		doc.Skipped += out.Skipped
		doc.Suites = append(doc.Suites, out)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
