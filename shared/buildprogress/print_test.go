package buildprogress

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
)

const (
	goBuild = "[build 4/4] RUN CGO_ENABLED=0 go build -trimpath -o /out/hello ."
	goTest  = "[test 1/1] RUN go test ./..."
	lintRun = "[lint 1/1] RUN golangci-lint run"
	copySrc = "[build 3/4] COPY *.go ./"
	ctxLoad = "[internal] load build context"
	dfLoad  = "[internal] load build definition from Dockerfile"
)

func TestPrint(t *testing.T) {
	tests := []struct {
		name  string
		msgs  []*client.SolveStatus
		want  string
		check func(t *testing.T, s *Summary)
	}{
		{
			name: "cached vertex is one line however often it comes",
			msgs: flat(cached(copySrc, 1), cached(copySrc, 1), done(copySrc, 1, 1)),
			want: lines("#1 CACHED " + copySrc),
			check: func(t *testing.T, s *Summary) {
				if s.Vertices != 1 || s.Cached != 1 || s.Failed != nil {
					t.Errorf("summary = %+v, want 1 vertex, 1 cached, none failed", *s)
				}
			},
		},
		{
			name: "output in chunks cut anywhere becomes whole lines",
			msgs: flat(started(goBuild, 2), output(goBuild, 1, "hel", "lo\nwor"), output(goBuild, 1, "ld\n", "last line without end"), done(goBuild, 2, 3.25)),
			want: lines("#1 "+goBuild, "#1 hello", "#1 world", "#1 last line without end", "#1 DONE 1.2s"),
		},
		{
			name: "a progress bar drawn with carriage returns shows its last state",
			msgs: flat(started(goBuild, 0),
				output(goBuild, 2, "downloading  10%\r", "downloading  20%\rdownloading  3", "0%\r"),
				output(goBuild, 2, "downloading 100%\n"),
				output(goBuild, 2, "pulling 1/3\rpulling 2/3\rpulling 3/3"), // never ended: flushed at completion
				done(goBuild, 0, 1)),
			want: lines("#1 "+goBuild, "#1 downloading 100%", "#1 pulling 3/3", "#1 DONE 1.0s"),
		},
		{
			name: "a line longer than 64KiB is cut into lines of 64KiB",
			msgs: flat(started(goBuild, 0), output(goBuild, 1, strings.Repeat("x", 40000), strings.Repeat("x", 30000)+"\n"), done(goBuild, 0, 1)),
			want: lines("#1 "+goBuild, "#1 "+strings.Repeat("x", 65536), "#1 "+strings.Repeat("x", 70000-65536), "#1 DONE 1.0s"),
		},
		{
			name: "CRLF split between chunks ends one line",
			msgs: flat(started(goBuild, 0), output(goBuild, 1, "abc\r", "\ndef\r\n"), done(goBuild, 0, 1)),
			want: lines("#1 "+goBuild, "#1 abc", "#1 def", "#1 DONE 1.0s"),
		},
		{
			name: "colours, titles and cursor movement are stripped",
			msgs: flat(started(goTest, 0),
				output(goTest, 1, "\x1b[32m--- PASS\x1b[0m: TestHello (0.00s)\n", "\x1b]0;go test\x07ok\tgitship/app\t0.01s\n"),
				output(goTest, 1, "\x1b[2K\x1b[1Gspinner\r\x1b[2K\x1b[1Gfinished\n", "bell\a and \x1b(Bcharset\n", "caf\xe9 \xc2\x9b31m\n"),
				done(goTest, 0, 2)),
			want: lines("#1 "+goTest, "#1 --- PASS: TestHello (0.00s)", "#1 ok\tgitship/app\t0.01s", "#1 finished", "#1 bell and charset", "#1 caf\uFFFD 31m", "#1 DONE 2.0s"),
		},
		{
			name: "stdout and stderr keep their own partial lines",
			msgs: flat(started(goBuild, 0), output(goBuild, 1, "out-a"), output(goBuild, 2, "err-b\n"), output(goBuild, 1, "\n"), done(goBuild, 0, 1)),
			want: lines("#1 "+goBuild, "#1 err-b", "#1 out-a", "#1 DONE 1.0s"),
		},
		{
			name: "parallel vertices: every line carries its vertex's number",
			msgs: flat(
				&client.SolveStatus{Vertexes: []*client.Vertex{vtx(goTest, 1, -1), vtx(lintRun, 1, -1)}},
				output(goTest, 1, "=== RUN   TestA\n"), output(lintRun, 1, "main.go:3:1: exported func\n"),
				output(goTest, 1, "--- PASS: TestA\n"), output(lintRun, 1, "1 issue\n"),
				done(lintRun, 1, 2), done(goTest, 1, 3)),
			want: lines("#1 "+goTest, "#2 "+lintRun, "#1 === RUN   TestA", "#2 main.go:3:1: exported func", "#1 --- PASS: TestA", "#2 1 issue", "#2 DONE 1.0s", "#1 DONE 2.0s"),
		},
		{
			name: "internal vertices: one line when done, output and transfer updates summed up",
			msgs: flat(
				started("[internal] load build definition from Dockerfile", 0),
				output("[internal] load build definition from Dockerfile", 1, "transferring dockerfile: 512B\n"),
				done("[internal] load build definition from Dockerfile", 0, 0.02),
				started(ctxLoad, 0.1),
				status(ctxLoad, "transferring context:", 1<<20, 0, 0.1, -1),
				status(ctxLoad, "transferring context:", 2<<20, 0, 0.1, -1),
				status(ctxLoad, "transferring context:", 2621440, 0, 0.1, 0.4),
				done(ctxLoad, 0.1, 0.4),
				cached("[internal] load metadata for docker.io/library/golang:1.26", 0.5),
			),
			want: lines("#1 [internal] load build definition from Dockerfile DONE 0.0s",
				"#2 [internal] load build context DONE 0.3s (transferring context: 2.50MiB)",
				"#3 CACHED [internal] load metadata for docker.io/library/golang:1.26"),
		},
		{
			name: "a pull's layer statuses are summed up when the vertex ends",
			msgs: func() []*client.SolveStatus {
				from := "[stage-2 1/2] FROM docker.io/library/busybox:1@sha256:abc"
				msgs := flat(started(from, 0), status(from, "resolve docker.io/library/busybox:1@sha256:abc", 0, 0, 0, 0.1))
				for i := int64(1); i <= 50; i++ { // 50 updates of two layers
					msgs = append(msgs, status(from, "sha256:1111", i*20000, 1000000, 0.1, -1), status(from, "sha256:2222", i*1000, 50000, 0.1, -1))
				}
				return append(msgs,
					status(from, "extracting sha256:1111", 0, 0, 1, 1.5), status(from, "extracting sha256:2222", 0, 0, 1.5, 1.6),
					done(from, 0, 1.6))
			}(),
			want: lines("#1 [stage-2 1/2] FROM docker.io/library/busybox:1@sha256:abc",
				"#1 resolve docker.io/library/busybox:1@sha256:abc",
				"#1 2 layers 1.00MiB",
				"#1 extracting 2 layers",
				"#1 DONE 1.6s"),
		},
		{
			name: "exporter statuses keep the image digest",
			msgs: flat(started("exporting to image", 5),
				status("exporting to image", "exporting layers", 0, 0, 5, 5.3),
				status("exporting to image", "writing image sha256:0123abcd", 0, 0, 5.3, 5.3),
				status("exporting to image", "naming to docker.io/library/app:test", 0, 0, 5.3, 5.3),
				done("exporting to image", 5, 5.4)),
			want: lines("#1 exporting to image", "#1 exporting layers", "#1 writing image sha256:0123abcd", "#1 naming to docker.io/library/app:test", "#1 DONE 0.4s"),
		},
		{
			name: "an internal vertex BuildKit completes, starts again and completes is one line with its transfer",
			msgs: flat(started(dfLoad, 0), done(dfLoad, 0, 0.01), started(dfLoad, 0.02),
				status(dfLoad, "transferring dockerfile:", 33, 0, 0.02, -1), status(dfLoad, "transferring dockerfile:", 489, 0, 0.02, 0.03),
				done(dfLoad, 0.02, 0.03), cached(copySrc, 0.1)),
			want: lines("#1 "+dfLoad+" DONE 0.0s (transferring dockerfile: 489B)", "#2 CACHED "+copySrc),
		},
		{
			name: "a step run again after its DONE is not shown twice; its later output and error are",
			msgs: flat(started(goBuild, 0), done(goBuild, 0, 1), started(goBuild, 2), output(goBuild, 1, "again\n"), done(goBuild, 2, 3),
				started(goTest, 3), done(goTest, 3, 4), started(goTest, 5), failed(goTest, 5, 6, "exit code: 2")),
			want: lines("#1 "+goBuild, "#1 DONE 1.0s", "#1 again", "#2 "+goTest, "#2 DONE 1.0s", "#2 ERROR: exit code: 2"),
			check: func(t *testing.T, s *Summary) {
				if s.Vertices != 2 || s.Failed == nil || s.Failed.Name != goTest {
					t.Errorf("summary = %+v, want 2 vertices, %q failed", *s, goTest)
				}
			},
		},
		{
			name: "a failed RUN: its error, and its last lines in the summary; the one canceled after it is not the failure",
			msgs: func() []*client.SolveStatus {
				msgs := flat(started(goTest, 0), started(lintRun, 0))
				for i := 1; i <= 40; i++ {
					msgs = append(msgs, output(goTest, 1, fmt.Sprintf("line %d\n", i)))
				}
				return append(msgs,
					failed(goTest, 0, 2, `process "/bin/sh -c go test ./..." did not complete successfully: exit code: 1`),
					failed(lintRun, 0, 2, "context canceled"))
			}(),
			want: func() string {
				l := []string{"#1 " + goTest, "#2 " + lintRun}
				for i := 1; i <= 40; i++ {
					l = append(l, fmt.Sprintf("#1 line %d", i))
				}
				return lines(append(l, `#1 ERROR: process "/bin/sh -c go test ./..." did not complete successfully: exit code: 1`, "#2 CANCELED")...)
			}(),
			check: func(t *testing.T, s *Summary) {
				if s.Failed == nil {
					t.Fatal("Summary.Failed = nil, want the go test vertex")
				}
				if s.Failed.Name != goTest || !strings.Contains(s.Failed.Error, "exit code: 1") {
					t.Errorf("Summary.Failed = %q: %q, want %q with its exit code", s.Failed.Name, s.Failed.Error, goTest)
				}
				if len(s.Failed.Logs) != TailLines || s.Failed.Logs[0] != "line 11" || s.Failed.Logs[TailLines-1] != "line 40" {
					t.Errorf("Summary.Failed.Logs = %q, want lines 11 to 40", s.Failed.Logs)
				}
			},
		},
		{
			name: "a failed internal vertex shows its output and error",
			msgs: flat(started("[internal] load metadata for docker.io/library/golang:1.26", 0),
				output("[internal] load metadata for docker.io/library/golang:1.26", 2, "dial tcp: lookup registry-1.docker.io: no such host\n"),
				failed("[internal] load metadata for docker.io/library/golang:1.26", 0, 1, "failed to resolve source metadata for docker.io/library/golang:1.26:\nno such host")),
			want: lines("#1 [internal] load metadata for docker.io/library/golang:1.26",
				"#1 dial tcp: lookup registry-1.docker.io: no such host",
				"#1 ERROR: failed to resolve source metadata for docker.io/library/golang:1.26:",
				"#1 no such host"),
			check: func(t *testing.T, s *Summary) {
				if s.Failed == nil || len(s.Failed.Logs) != 1 {
					t.Errorf("Summary.Failed = %+v, want the metadata vertex with its one line", s.Failed)
				}
			},
		},
		{
			name: "warnings once each at the end, with their line",
			msgs: flat(warning("FromAsCasing: 'as' and 'FROM' keywords' casing do not match", "Dockerfile", 7),
				started(goBuild, 0),
				warning("FromAsCasing: 'as' and 'FROM' keywords' casing do not match", "Dockerfile", 7),
				warning("JSONArgsRecommended: JSON arguments recommended for CMD", "Dockerfile", 13),
				&client.SolveStatus{Warnings: []*client.VertexWarning{{Short: []byte("no source\x1b[1m")}}},
				done(goBuild, 0, 1)),
			want: lines("#1 "+goBuild, "#1 DONE 1.0s",
				"WARNING: FromAsCasing: 'as' and 'FROM' keywords' casing do not match (Dockerfile:7)",
				"WARNING: JSONArgsRecommended: JSON arguments recommended for CMD (Dockerfile:13)",
				"WARNING: no source"),
			check: func(t *testing.T, s *Summary) {
				want := []Warning{
					{Short: "FromAsCasing: 'as' and 'FROM' keywords' casing do not match", File: "Dockerfile", Line: 7},
					{Short: "JSONArgsRecommended: JSON arguments recommended for CMD", File: "Dockerfile", Line: 13},
					{Short: "no source"},
				}
				if !reflect.DeepEqual(s.Warnings, want) {
					t.Errorf("Summary.Warnings = %+v, want %+v", s.Warnings, want)
				}
			},
		},
		{
			name: "stream closed early: the partial line is written, nothing more",
			msgs: flat(started(goBuild, 0), output(goBuild, 1, "compiling\nlinking")),
			want: lines("#1 "+goBuild, "#1 compiling", "#1 linking"),
		},
		{
			name: "output before its vertex is held until the vertex shows",
			msgs: flat(output(goBuild, 1, "early\n"), started(goBuild, 0), output(goBuild, 1, "late\n"), done(goBuild, 0, 1)),
			want: lines("#1 "+goBuild, "#1 early", "#1 late", "#1 DONE 1.0s"),
		},
		{
			name: "numbers follow first appearance in the log; a vertex never started gets none",
			msgs: flat(
				&client.SolveStatus{Vertexes: []*client.Vertex{vtx("[stage-2 2/2] COPY --from=build /out/hello /hello", -1, -1), vtx(goBuild, -1, -1)}},
				cached(copySrc, 0), started(goBuild, 1), done(goBuild, 1, 2), done(copySrc, 0, 0)),
			want: lines("#1 CACHED "+copySrc, "#2 "+goBuild, "#2 DONE 1.0s"),
			check: func(t *testing.T, s *Summary) {
				if s.Vertices != 2 || s.Cached != 1 {
					t.Errorf("summary = %+v, want 2 vertices shown, 1 cached", *s)
				}
			},
		},
		{
			name: "a vertex completed in the message that starts it",
			msgs: flat(done("[build 2/4] WORKDIR /src", 0, 0.04)),
			want: lines("#1 [build 2/4] WORKDIR /src", "#1 DONE 0.0s"),
		},
		{
			name: "a heredoc RUN's name stays on its line",
			msgs: flat(cached("[build 3/3] RUN <<EOF\nset -e\nmake\nEOF", 0)),
			want: lines(`#1 CACHED [build 3/3] RUN <<EOF\nset -e\nmake\nEOF`),
		},
		{
			name: "nil messages and entries are skipped",
			msgs: []*client.SolveStatus{nil, {Vertexes: []*client.Vertex{nil}, Logs: []*client.VertexLog{nil}, Statuses: []*client.VertexStatus{nil}, Warnings: []*client.VertexWarning{nil}}},
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sum := run(t, tt.msgs)
			if got != tt.want {
				t.Errorf("Print() wrote\n%s\nwant\n%s", got, tt.want)
			}
			if sum == nil {
				t.Fatal("Print() = nil summary")
			}
			if tt.check != nil {
				tt.check(t, sum)
			}
		})
	}
}
