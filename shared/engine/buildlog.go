package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
)

// ErrBuildFailed is returned (in a *BuildError) when the engine reports a
// failed build: an instruction failed, or the Dockerfile was refused.
var ErrBuildFailed = errors.New("build failed")

// BuildError is a failed build: the instruction that failed, where it is,
// what the engine said and the last lines the instruction printed.
type BuildError struct {
	Dockerfile  string   // the Dockerfile's path as given
	Line        int      // the instruction's line, 0 if unknown
	Step        string   // the builder's step number, "5/6"; "" if none had started
	Instruction string   // as the builder printed it, "RUN make test"
	Message     string   // the engine's error
	Code        int      // the failed command's exit code, when the engine gives it
	Output      []string // the last lines of the step's output (at most maxTail)
}

func (e *BuildError) Error() string {
	var b strings.Builder
	switch {
	case e.Step == "":
		fmt.Fprintf(&b, "build %s: %s", e.Dockerfile, e.Message)
	case e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: %s (step %s): %s", e.Dockerfile, e.Line, e.Instruction, e.Step, e.Message)
	default:
		fmt.Fprintf(&b, "%s: %s (step %s): %s", e.Dockerfile, e.Instruction, e.Step, e.Message)
	}
	for _, l := range e.Output {
		b.WriteString("\n    ")
		b.WriteString(l)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrBuildFailed) hold.
func (e *BuildError) Unwrap() error { return ErrBuildFailed }

// maxTail is how many output lines of the failing step a BuildError keeps;
// the whole output is in the log already.
const maxTail = 20

var (
	// The classic builder prints "Step 5/6 : RUN ...", Podman (Buildah)
	// "STEP 5/6: RUN ...".
	stepRe = regexp.MustCompile(`^(?i)step (\d+/\d+) ?: (.*)$`)
	// " ---> 5872efe2d2c9" ends a step with the image it made (or found
	// in the cache); Buildah prints "--> 5872efe2d2c9".
	stepImageRe = regexp.MustCompile(`^ ?-{2,3}> ([0-9a-f]{12,64})$`)
	builtRe     = regexp.MustCompile(`^Successfully built ([0-9a-f]{12,64})$`)
	// The classic builder colours a step's stderr red; the escapes stay in
	// the log, where CI systems render them, but not in a BuildError.
	sgrRe = regexp.MustCompile("\x1b\\[[0-9;]*m")
)

// buildLog reads the engine's JSON message stream of a build: it writes
// the output to the log line by line and keeps what the result and a
// failure need.
type buildLog struct {
	out     io.Writer
	df      *dockerfile
	partial string // output not yet ended by a newline

	step, instruction string
	tail              []string

	images  []string // image IDs, full or short, the steps reported, in order
	imageID string   // the last "aux" ID: the result of the last stage built
	built   string   // the short ID of "Successfully built"
}

// read consumes the stream. It returns a *BuildError when the engine
// reports one, and a plain error when the stream breaks.
func (l *buildLog) read(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if err := l.message(m); err != nil {
			return err
		}
	}
	l.flush()
	return nil
}

func (l *buildLog) message(m jsonstream.Message) error {
	if m.Stream != "" {
		l.partial += m.Stream
		for {
			i := strings.IndexByte(l.partial, '\n')
			if i < 0 {
				break
			}
			l.line(l.partial[:i])
			l.partial = l.partial[i+1:]
		}
	}
	if m.Status != "" && m.Progress == nil {
		// Pull progress of a missing base image; one line per layer state.
		if m.ID != "" {
			fmt.Fprintf(l.out, "%s: %s\n", m.ID, m.Status)
		} else {
			fmt.Fprintln(l.out, m.Status)
		}
	}
	if m.Aux != nil {
		var aux struct{ ID string }
		if json.Unmarshal(*m.Aux, &aux) == nil && aux.ID != "" {
			l.imageID = aux.ID
		}
	}
	if m.Error != nil {
		l.flush()
		return &BuildError{
			Dockerfile:  l.df.path,
			Line:        l.df.line(l.instruction),
			Step:        l.step,
			Instruction: l.instruction,
			Message:     m.Error.Message,
			Code:        m.Error.Code,
			Output:      l.tail,
		}
	}
	return nil
}

// flush ends a last line the stream left open.
func (l *buildLog) flush() {
	if l.partial != "" {
		l.line(l.partial)
		l.partial = ""
	}
}

func (l *buildLog) line(s string) {
	s = strings.TrimRight(s, "\r")
	fmt.Fprintln(l.out, s)
	s = sgrRe.ReplaceAllString(s, "")
	if m := stepRe.FindStringSubmatch(s); m != nil {
		l.step, l.instruction, l.tail = m[1], m[2], nil
		return
	}
	if m := stepImageRe.FindStringSubmatch(s); m != nil {
		l.images = append(l.images, m[1])
		return
	}
	if m := builtRe.FindStringSubmatch(s); m != nil {
		l.built = m[1]
		return
	}
	// The builder's own chatter is not the instruction's output.
	if strings.HasPrefix(s, " ---> ") || strings.HasPrefix(s, "Removing intermediate container ") {
		return
	}
	if s == "" && len(l.tail) == 0 {
		return
	}
	l.tail = append(l.tail, s)
	if len(l.tail) > maxTail {
		l.tail = l.tail[len(l.tail)-maxTail:]
	}
}
