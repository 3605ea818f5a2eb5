// Package testreport reads a JUnit XML test report, whichever tool wrote it
// (go-junit-report, gotestsum, pytest, Jest, Maven Surefire), and turns it
// into what a CI shows: a summary table of passed and failed tests, and one
// annotation per failed test.
//
// Parsing is github.com/joshdk/go-junit's, which accepts the dialects those
// tools write (testsuites or a bare testsuite, nested suites, failure and
// error elements) rather than one strict schema.
package testreport
