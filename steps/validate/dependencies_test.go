package main

import (
	"strings"
	"testing"
)

// Chart dependencies: vendored in charts/ (what helm dependency build
// leaves) or given by a file:// repository, they render as helm template
// renders them; one that is missing is named, with the command that
// fetches it, and is bad input (exit 2).
func TestChartDependencies(t *testing.T) {
	base := map[string]string{
		"lib/Chart.yaml":             "apiVersion: v2\nname: lib\nversion: 1.2.3\n",
		"lib/templates/_helpers.tpl": `{{- define "lib.labels" }}app: {{ .Release.Name }}{{ end }}`,
		"lib/templates/sa.yaml":      "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: lib-{{ .Values.suffix }}\n",
		"lib/values.yaml":            "suffix: one\n",
		"app/templates/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels:\n    {{- include \"lib.labels\" . | nindent 4 }}\ndata:\n  count: 1\n",
	}
	tests := []struct {
		name  string
		files map[string]string
		code  int
		want  []string
	}{
		{"file:// dependency", map[string]string{
			"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 1.x.x\n  repository: file://../lib\n",
		}, 1, []string{"app/templates/cm.yaml:8: error: ConfigMap app: data.count", "chart app: 2 resources", "2 resources: 1 valid, 1 invalid"}},
		{"vendored in charts/", map[string]string{
			"app/Chart.yaml":                   "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 1.x.x\n  repository: https://charts.example.com\n",
			"app/charts/lib/Chart.yaml":        "apiVersion: v2\nname: lib\nversion: 1.2.3\n",
			"app/charts/lib/templates/_h.tpl":  `{{- define "lib.labels" }}app: {{ .Release.Name }}{{ end }}`,
			"app/charts/lib/templates/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vendored\nautomount: true\n",
		}, 1, []string{"app/charts/lib/templates/sa.yaml", "automount", "2 of 2 resources failed"}},
		{"missing", map[string]string{
			"app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 1.x.x\n  repository: https://charts.example.com\n",
		}, 2, []string{"dependency lib 1.x.x from https://charts.example.com is in Chart.yaml but not in app/charts: run helm dependency build app (it fetches what Chart.lock pins into charts/), or add --dependency-update"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			for name, content := range base {
				writeFile(t, ws, name, content)
			}
			for name, content := range tt.files {
				writeFile(t, ws, name, content)
			}
			res := run(t, ws, nil, "--chart", "app")
			noCrash(t, res)
			out := res.Stdout + res.Stderr
			if res.Code != tt.code {
				t.Errorf("exit code = %d, want %d\n%s", res.Code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
