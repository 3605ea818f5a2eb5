package build

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gitship/gitship/shared/atomicfile"
	"github.com/gitship/gitship/shared/engine"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/testreport"
)

// tailLines is how much of a failed test's output is repeated outside the
// folded log group, next to the error.
const tailLines = 30

// test builds the test stage, runs the tests in a container from it and
// surfaces their report. Failing tests end the step with their exit code.
func (b *builder) test(ctx context.Context) error {
	image, err := b.build(ctx, fmt.Sprintf("Build test stage %q", b.s.TestTarget), b.buildOptions(b.s.TestTarget), false)
	if err != nil {
		return err
	}
	img, err := b.eng.InspectImage(ctx, image)
	if err != nil {
		return err
	}
	shown := "the stage's CMD"
	if b.in.testCmd != nil {
		shown = b.s.TestCommand
	}

	tail := &tailWriter{max: tailLines}
	out := io.MultiWriter(b.r.Stdout, tail) // one stream keeps stdout and stderr in order in the log
	var code int
	var container string
	err = b.r.Group("Test: "+shown, func() error {
		var err error
		code, container, err = b.eng.Run(ctx, engine.RunOptions{Image: image, Cmd: b.in.testCmd, Env: b.in.testEnv}, out, out)
		return err
	})
	if err != nil {
		return fmt.Errorf("run the tests in %s: %w", short(image), err)
	}
	if err := b.r.SetOutput("test-exit-code", strconv.Itoa(code)); err != nil {
		return err
	}
	if b.s.Keep {
		fmt.Fprintf(b.r.Stdout, "Test container %s (image %s) kept\n", short(container), short(image))
	}

	var summary string
	if b.s.TestReport != "" {
		summary, err = b.report(ctx, container, img.WorkingDir, code)
		if err != nil {
			return err
		}
	}
	if code == 0 {
		fmt.Fprintf(b.r.Stdout, "Tests passed in the container (%s)\n", shown)
		b.md.WriteString(summary)
		return nil
	}
	fmt.Fprintf(b.r.Stdout, "Tests failed in the container: exit code %d. Last lines of their output:\n%s", code, tail.String())
	b.r.Platform.Annotate(b.r.Stdout, finding.Finding{RuleID: "TEST", Severity: finding.Error,
		Message: fmt.Sprintf("tests failed in the container of stage %q: %s exited with %d", b.s.TestTarget, shown, code)})
	b.md.WriteString(summary)
	return &step.ExitError{Code: code, Err: fmt.Errorf("tests in stage %q exited with %d: %w", b.s.TestTarget, code, step.ErrCheckFailed)}
}

// report copies the test report out of the finished container into
// .gitship/build/ in the workspace and turns JUnit into a summary and
// annotations. A report missing after failed tests is only a warning:
// the tests may not have got as far as writing it.
func (b *builder) report(ctx context.Context, container, workdir string, code int) (string, error) {
	src := b.s.TestReport
	if !path.IsAbs(src) {
		src = path.Join(cmp.Or(workdir, "/"), src)
	}
	var buf bytes.Buffer
	if err := b.eng.CopyOut(ctx, container, src, &buf); err != nil {
		if code != 0 {
			b.r.Platform.Annotate(b.r.Stdout, finding.Finding{RuleID: "TEST", Severity: finding.Warning,
				Message: fmt.Sprintf("--test-report %s: no report: %v", src, err)})
			return "", nil
		}
		return "", fmt.Errorf("--test-report %s: the tests passed but left no report: %w", src, err)
	}
	dst := filepath.Join(b.r.Context().Workspace, ".gitship", "build", path.Base(src))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("--test-report: %w", err)
	}
	if err := atomicfile.Write(dst, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return "", fmt.Errorf("--test-report: %w", err)
	}
	fmt.Fprintf(b.r.Stdout, "Test report %s copied to %s\n", src, dst)
	if err := b.r.SetOutput("test-report", dst); err != nil {
		return "", err
	}
	if !testreport.IsJUnit(buf.Bytes()) {
		return "", nil
	}
	rep, err := testreport.Parse(buf.Bytes())
	if err != nil {
		b.r.Platform.Annotate(b.r.Stdout, finding.Finding{RuleID: "TEST", Severity: finding.Warning,
			Message: fmt.Sprintf("--test-report %s: copied, but not summarized: %v", src, err)})
		return "", nil
	}
	fmt.Fprintf(b.r.Stdout, "Test report: %d tests, %d passed, %d failed, %d errors, %d skipped\n",
		rep.Total(), rep.Passed, rep.Failed, rep.Errors, rep.Skipped)
	findings := rep.Findings(workdir, b.relToWorkspace(b.s.Context))
	finding.Sort(findings)
	for _, f := range findings {
		b.r.Platform.Annotate(b.r.Stdout, f)
	}
	return rep.Markdown(fmt.Sprintf("Tests in stage `%s`", b.s.TestTarget)), nil
}

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	max   int
	lines []string
	part  []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.part[:i]))
		t.part = t.part[i+1:]
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	lines := t.lines
	if len(t.part) > 0 {
		lines = append(slices.Clone(t.lines), string(t.part))
	}
	if len(lines) > t.max {
		lines = lines[len(lines)-t.max:]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func short(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
