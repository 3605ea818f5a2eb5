//go:build record

package buildprogress

// go test -tags record -run TestRecord ./shared/buildprogress records the
// status streams of real builds through the test engine's BuildKit into
// testdata/engine-*.json, which TestPrintRecorded replays.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/buildkit/client"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/shared/buildkit"
	"github.com/gitship/gitship/shared/engine"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

func TestRecord(t *testing.T) {
	host := enginetest.Daemon(t)
	enginetest.BaseImage(t, host)
	e, err := engine.Connect(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	defer e.Cleanup(context.Background())
	b, err := buildkit.ConnectEngine(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, name := range []string{"ok", "fail"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "engine")
			var msgs []*client.SolveStatus
			_, err := b.Solve(context.Background(), buildkit.SolveOptions{
				ContextDir: dir,
				Dockerfile: filepath.Join(dir, name+".Dockerfile"),
				NoCache:    name == "fail",
				Progress: func(ch <-chan *client.SolveStatus) {
					for s := range ch {
						msgs = append(msgs, s)
					}
				},
			})
			t.Logf("Solve() = %v", err)
			data, err := json.MarshalIndent(msgs, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}
