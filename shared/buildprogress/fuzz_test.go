package buildprogress

import (
	"io"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
)

// FuzzPrint feeds arbitrary output, cut into chunks at arbitrary places,
// to a running vertex and a parallel one: Print must not panic, every
// write must be one whole line with no escape and no carriage return, and
// each line of output must be the vertex's.
func FuzzPrint(f *testing.F) {
	for _, s := range []string{
		"hello\nworld\n",
		"10%\r20%\r100%\r\n",
		"\x1b[32mok\x1b[0m\n\x1b]0;title\x07\x1b[2K\r",
		"abc\r",
		"\x1b", "\x1b[", "\x1b]unterminated", "\xff\xfe\n\xc2\x9b1m",
		strings.Repeat("x", 300) + "\r" + strings.Repeat("y", 20) + "\n",
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		const a, b = "[build 2/2] RUN make", "[web 2/2] RUN npm ci"
		msgs := flat(started(a, 0), started(b, 0))
		step := int(cut)%17 + 1
		for i := 0; i < len(data); i += step {
			chunk := string(data[i:min(i+step, len(data))])
			name := a
			if (i/step)%3 == 2 {
				name = b
			}
			msgs = append(msgs, output(name, 1+(i/step)%2, chunk))
		}
		msgs = append(msgs, done(a, 0, 1)) // b is left running: the stream ends early
		w := &lineWriter{t: t}
		ch := make(chan *client.SolveStatus, len(msgs))
		for _, m := range msgs {
			ch <- m
		}
		close(ch)
		sum := Print(w, ch)
		if sum.Vertices != 2 {
			t.Fatalf("Print() summary = %+v, want 2 vertices", *sum)
		}
		for _, l := range strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n") {
			if !strings.HasPrefix(l, "#1") && !strings.HasPrefix(l, "#2") {
				t.Fatalf("line %q is not a vertex's", l)
			}
		}
	})
}

// TestPrintDrains checks that Print reads the whole stream even when the
// log cannot be written, so the solve sending it never blocks.
func TestPrintDrains(t *testing.T) {
	ch := make(chan *client.SolveStatus) // unbuffered: each send waits for Print
	sent := make(chan int)
	go func() {
		n := 0
		defer func() { close(ch); sent <- n }()
		for _, m := range multistage() {
			ch <- m
			n++
		}
	}()
	sum := Print(failingWriter{}, ch)
	if n, want := <-sent, len(multistage()); n != want {
		t.Errorf("the producer sent %d of %d messages", n, want)
	}
	if sum.Vertices != 22 {
		t.Errorf("Print(failing writer).Vertices = %d, want 22", sum.Vertices)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
