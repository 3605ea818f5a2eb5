package buildprogress

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
	"github.com/moby/buildkit/client"
)

// TestPrintRecorded replays status streams recorded from real builds
// through the Docker 20.10 engine's BuildKit (testdata/engine/*.json, made
// by record_test.go from the Dockerfiles beside them) and compares the log
// and summary with golden files: two stages running in parallel, one
// colouring its output and one drawing a CR progress bar; and a RUN that
// fails after 41 lines.
func TestPrintRecorded(t *testing.T) {
	for _, name := range []string{"ok", "fail"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "engine", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var msgs []*client.SolveStatus
			if err := json.Unmarshal(data, &msgs); err != nil {
				t.Fatalf("json.Unmarshal(%s.json) = %v", name, err)
			}
			log, sum := run(t, msgs)
			var b strings.Builder
			b.WriteString(log)
			fmt.Fprintf(&b, "--- summary: %d vertices, %d cached\n", sum.Vertices, sum.Cached)
			if sum.Failed != nil {
				fmt.Fprintf(&b, "--- failed: %s\n--- error: %s\n--- last lines:\n%s\n", sum.Failed.Name, sum.Failed.Error, strings.Join(sum.Failed.Logs, "\n"))
			}
			steptest.Golden(t, "engine/"+name, b.String())
		})
	}
}
