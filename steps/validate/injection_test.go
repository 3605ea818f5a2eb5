package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
)

// TestInjection: a chart's fail text, template output in errors and a
// manifest's file name never become workflow or logging commands on
// GitHub or Azure; the error is on the CI's error channel, once.
func TestInjection(t *testing.T) {
	hostileName := "bad\n::error::" + steptest.Marker + "\r##vso[task.setvariable variable=" + steptest.Marker + "]x.yaml"
	files := map[string]string{
		"chart/Chart.yaml":          "apiVersion: v2\nname: hostile\nversion: 0.1.0\n",
		"chart/templates/fail.yaml": "{{ fail " + strconv.Quote("render: "+steptest.HostileText) + " }}\n",
		"tpl/Chart.yaml":            "apiVersion: v2\nname: tpl\nversion: 0.1.0\n",
		"tpl/templates/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ " + strconv.Quote(steptest.HostileText) + " | nosuchfunc }}\n",
		hostileName:                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [" + strconv.Quote(steptest.HostileText) + "]\n",
	}
	tests := []struct {
		name string
		args []string
	}{
		{"chart fails", []string{"--chart", "chart"}},
		{"template error", []string{"--chart", "tpl"}},
		{"manifest file name and content", []string{"--manifests", hostileName}},
		{"hostile --manifests", []string{"--manifests", "missing\n" + steptest.HostileText}},
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
				if res.Code == 0 {
					t.Errorf("exit code = 0, want a failure\nstdout:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
				}
				steptest.NoInjection(t, kind, res)
			})
		}
	}
}
