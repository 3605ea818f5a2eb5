package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
)

// TestInjection: text from the repository (a chart's fail and required
// messages, a file name with line breaks) and from inputs (--path) never
// becomes a workflow or logging command on GitHub or Azure, and a usage
// error is written on the CI's error channel.
func TestInjection(t *testing.T) {
	files := map[string]string{
		"chart/Chart.yaml":          "apiVersion: v2\nname: hostile\nversion: 0.1.0\n",
		"chart/values.yaml":         "replicas: 1\n",
		"chart/templates/fail.yaml": "{{ fail " + strconv.Quote("render: "+steptest.HostileText) + " }}\n",
		"chart/templates/req.yaml":  "a: {{ required " + strconv.Quote("need: "+steptest.HostileText) + " .Values.missing }}\n",
		"bad\n::error::" + steptest.Marker + "\r##vso[task.setvariable variable=" + steptest.Marker + "]x.yaml": "a: [\n",
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"chart and file names", nil, 1},
		{"hostile --path", []string{"--path", "missing\n" + steptest.HostileText}, 2},
	}
	for _, kind := range []string{"github", "azure"} {
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				ws := t.TempDir()
				for name, content := range files {
					p := filepath.Join(ws, name)
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				res := steptest.Run(t, binary, ws, steptest.CIEnv(kind, ws, t.TempDir()), tt.args...)
				if res.Code != tt.code {
					t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.Code, tt.code, res.Stdout, res.Stderr)
				}
				steptest.NoInjection(t, kind, res)
			})
		}
	}
}
