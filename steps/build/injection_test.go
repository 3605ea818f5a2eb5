package main

import (
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/enginetest"
	"github.com/gitship/gitship/internal/steptest"
)

// TestInjection: what a Dockerfile's RUN prints, the Dockerfile's own
// text in a syntax error, and hostile --context and --tag values never
// become workflow or logging commands on GitHub or Azure; the error is on
// the CI's error channel, once. The build log is the app's code speaking:
// it is data, like any other.
func TestInjection(t *testing.T) {
	host := enginetest.Daemon(t)
	base := enginetest.BaseImage(t, host)
	var printf []string
	for _, h := range steptest.Hostile {
		printf = append(printf, "printf '%s\\n' '"+strings.ReplaceAll(h, "'", "")+"'")
	}
	run := "FROM " + base + "\nRUN " + strings.Join(printf, "; ") + "; printf '%s' '" + strings.ReplaceAll(steptest.HostileText, "\n", `\n`) + "' >&2; exit 3\n"
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		env   map[string]string
	}{
		{"RUN output", map[string]string{"Dockerfile": run}, nil, map[string]string{"DOCKER_HOST": host}},
		{"syntax error", map[string]string{"Dockerfile": "FROM " + base + "\n::error::" + steptest.Marker + "\n"}, nil, injNoEngine},
		{"hostile --context", map[string]string{"Dockerfile": "FROM " + base + "\n"}, []string{"--context", "nope\n" + steptest.HostileText}, injNoEngine},
		{"hostile --tag", map[string]string{"Dockerfile": "FROM " + base + "\n"}, []string{"--tag", "x\n" + steptest.HostileText}, injNoEngine},
	}
	for _, kind := range []string{"github", "azure"} {
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				ws, _ := repo(t, tt.files, "")
				env := steptest.CIEnv(kind, ws, t.TempDir())
				for k, v := range tt.env {
					env[k] = v
				}
				res := steptest.Run(t, binary, ws, env, tt.args...)
				if res.Code == 0 {
					t.Fatalf("exit 0\n%s", res.Stdout)
				}
				if tt.name == "RUN output" && !strings.Contains(res.Stdout, steptest.Marker) {
					t.Errorf("the RUN output is not in the log:\n%s", res.Stdout)
				}
				steptest.NoInjection(t, kind, res)
			})
		}
	}
}

// injNoEngine points at no engine: these runs fail before one is needed.
var injNoEngine = map[string]string{"DOCKER_HOST": "unix:///tmp/gitship-none/docker.sock"}
