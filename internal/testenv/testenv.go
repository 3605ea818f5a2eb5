// Package testenv is what tests need from the machine they run on and
// from the server processes they start (buildkitd, docker-registry,
// dockerd): what to do when the machine lacks something (Unavailable), a
// free loopback port to listen on, and a log of a process's output that
// the test reads while it runs.
package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
)

// Unavailable skips the test, saying why (what the machine lacks and how
// to get it), or fails it when GITSHIP_TEST_STRICT is set, as .ci/run
// sets it: there, a test that needs a real engine, registry or daemon
// must run.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if os.Getenv("GITSHIP_TEST_STRICT") != "" {
		t.Fatal(why + "; GITSHIP_TEST_STRICT is set")
	}
	t.Skip(why)
}

// FreePort is a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Log is a process's output: an io.Writer for its Stdout and Stderr that
// a test may read while the process writes.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is all the process has written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Tail is the last n lines of s, a log.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
