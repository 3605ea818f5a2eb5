package wrapper_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/wrapper"
)

// An agent runs the highest Node handler a task declares that it has:
// Node24 from agent 4.265.1, Node20_1 from 3.232.1. Both must run the shim,
// in that order in the file (as azure-pipelines-tasks' migration guide
// writes them).
func TestAzureTaskHandlers(t *testing.T) {
	data, err := wrapper.AzureTask(demoStep(), 1, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var task struct {
		MinimumAgentVersion string
		Execution           map[string]struct{ Target string }
	}
	if err := json.Unmarshal(data, &task); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Node20_1", "Node24"} {
		if task.Execution[h].Target != wrapper.ShimFile {
			t.Errorf("execution.%s = %+v, want it to run %s", h, task.Execution[h], wrapper.ShimFile)
		}
	}
	if len(task.Execution) != 2 {
		t.Errorf("execution has %d handlers, want Node20_1 and Node24", len(task.Execution))
	}
	if i, j := strings.Index(string(data), `"Node20_1"`), strings.Index(string(data), `"Node24"`); i < 0 || j < i {
		t.Errorf("want Node20_1 before Node24 in task.json")
	}
	if task.MinimumAgentVersion != "3.232.1" {
		t.Errorf("minimumAgentVersion %q: an agent older than the first with Node20_1 could not run the task", task.MinimumAgentVersion)
	}
}

// step.json pins the URL template the shim downloads a release's binary
// from, and the asset names are the ones tools/release writes.
func TestShimConfigDownloadURL(t *testing.T) {
	data, err := wrapper.ShimConfig(demoStep())
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct{ Step, DownloadURL string }
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Step != demoStep().Name || cfg.DownloadURL != "https://github.com/gitship/gitship/releases/download/v{version}/{asset}" {
		t.Errorf("step.json = %s", data)
	}
	for _, tt := range []struct{ goos, goarch, want string }{
		{"linux", "amd64", "gitship-lint-linux-amd64"},
		{"darwin", "arm64", "gitship-lint-darwin-arm64"},
		{"windows", "amd64", "gitship-lint-windows-amd64.exe"},
	} {
		if got := wrapper.AssetName("lint", tt.goos, tt.goarch); got != tt.want {
			t.Errorf("AssetName(lint, %s, %s) = %q, want %q", tt.goos, tt.goarch, got, tt.want)
		}
	}
}
