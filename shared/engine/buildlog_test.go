package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
)

// TestBuildLog replays build output recorded from dockerd 20.10 (the
// classic builder; testdata/buildlog/*.jsonl) and compares the log lines,
// the image IDs and the error with golden files.
func TestBuildLog(t *testing.T) {
	for _, name := range []string{"ok", "fail"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "buildlog")
			df, err := readDockerfile(filepath.Join(dir, name+".Dockerfile"), name+".Dockerfile")
			if err != nil {
				t.Fatal(err)
			}
			stream, err := os.Open(filepath.Join(dir, name+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Close()
			var out strings.Builder
			bl := &buildLog{out: &out, df: df}
			err = bl.read(stream)

			fmt.Fprintf(&out, "--- images: %s\n--- last aux ID: %s\n", strings.Join(bl.images, " "), bl.imageID)
			if err != nil {
				fmt.Fprintf(&out, "--- error:\n%v\n", err)
			}
			var be *BuildError
			if name == "fail" && (!errors.As(err, &be) || !errors.Is(err, ErrBuildFailed) || be.Line != 6 || be.Code != 7) {
				t.Errorf("read() = %#v, want a *BuildError at line 6 with code 7", err)
			}
			if name == "ok" && err != nil {
				t.Errorf("read() = %v", err)
			}
			steptest.Golden(t, "buildlog/"+name, out.String())
		})
	}
}

func TestDockerfileTarget(t *testing.T) {
	tests := []struct {
		dockerfile string
		target     string
		want       string // "" for no error
	}{
		{"testdata/buildlog/ok.Dockerfile", "build", ""},
		{"testdata/buildlog/ok.Dockerfile", "TEST", ""},
		{"testdata/buildlog/ok.Dockerfile", "tset", `target stage "tset" is not in testdata/buildlog/ok.Dockerfile: its stages are "build", "test"`},
		// The example app: a "# syntax=" line, ARGs in FROM, an unnamed last stage.
		{"../../examples/app/Dockerfile", "test", ""},
		{"../../examples/app/Dockerfile", "final", `target stage "final" is not in ../../examples/app/Dockerfile: its stages are "build", "test"`},
		{"testdata/buildlog/unnamed.Dockerfile", "build", `target stage "build" is not in testdata/buildlog/unnamed.Dockerfile: it has no named stages`},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			df, err := readDockerfile(filepath.FromSlash(tt.dockerfile), tt.dockerfile)
			if err != nil {
				t.Fatal(err)
			}
			err = df.checkTarget(tt.target)
			got := ""
			if err != nil {
				got = err.Error()
				if !errors.Is(err, ErrUnknownTarget) {
					t.Errorf("checkTarget(%q) = %v, not an ErrUnknownTarget", tt.target, err)
				}
			}
			if got != tt.want {
				t.Errorf("checkTarget(%q) = %q, want %q", tt.target, got, tt.want)
			}
		})
	}
}
