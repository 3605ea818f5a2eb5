package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Chart findings as validate sees the same chart: a dependency missing from
// charts/ is an error naming it and the fix (helm lint only warned, under a
// path made of the chart's relative and absolute paths joined, while
// validate refused the chart), a file a rule names by helm's absolute path
// is named from the repository root, and a --values file outside every
// --path has its duplicate keys reported (they were not: helm keeps one
// value without a word).
func TestCharts(t *testing.T) {
	chart := map[string]string{
		"deploy/chart/Chart.yaml":                   "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 18.0.0\n    repository: oci://registry.example.com/charts\n    condition: redis.enabled\n",
		"deploy/chart/values.yaml":                  "replicas: 1\nredis:\n  enabled: false\n",
		"deploy/chart/templates/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  r: {{ .Values.replicas | quote }}\n",
		"environments/prod/values.yaml":             "replicas: 2\nreplicas: 3\n",
		"deploy/undeclared/Chart.yaml":              "apiVersion: v2\nname: other\nversion: 0.1.0\n",
		"deploy/undeclared/templates/a.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"deploy/undeclared/charts/extra/Chart.yaml": "apiVersion: v2\nname: extra\nversion: 0.1.0\n",
		"deploy/local/Chart.yaml":                   "apiVersion: v2\nname: local\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n",
		"deploy/local/templates/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
		"deploy/lib/Chart.yaml":                     "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
		not  []string
	}{
		{"missing dependency", []string{"--path", "deploy/chart"}, 1, []string{
			"deploy/chart/Chart.yaml:5: error: dependency redis 18.0.0 from oci://registry.example.com/charts is in Chart.yaml but not in deploy/chart/charts: run helm dependency build deploy/chart (it fetches what Chart.lock pins into charts/) [HL1000]",
		}, []string{"warning: chart directory is missing", "deploy/chart/" + "/"}},
		{"dependency not declared", []string{"--path", "deploy/undeclared"}, 1, []string{
			"deploy/undeclared: error: chart metadata is missing these dependencies: extra [HL1000]",
		}, nil},
		// validate loads a file:// dependency from where it points, so
		// lint only warns that helm itself needs the build.
		{"file dependency", []string{"--path", "deploy/local"}, 0, []string{
			"deploy/local/Chart.yaml:5: warning: dependency lib 0.1.0 from file://../lib is in Chart.yaml but not in deploy/local/charts: validate and gitops-pr load it from ../lib, helm template and helm install need helm dependency build deploy/local first [HL1000]",
		}, nil},
		{"values outside the path", []string{"--path", "deploy/undeclared/templates", "--values", "environments/prod/values.yaml"}, 1, []string{
			`environments/prod/values.yaml:2:1: error: duplicate key "replicas" (first at line 1): only one of the values is used [YL002]`,
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			for name, content := range chart {
				p := filepath.Join(ws, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res := run(t, ws, nil, tt.args...)
			if res.Code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", res.Code, tt.code, res.Stdout, res.Stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(res.Stdout, want+"\n") {
					t.Errorf("stdout lacks\n%s\n%s", want, res.Stdout)
				}
			}
			for _, line := range strings.Split(res.Stdout, "\n") {
				if !strings.HasSuffix(line, "]") { // findings only: the log names the workspace
					continue
				}
				for _, not := range append(tt.not, ws) {
					if strings.Contains(line, not) {
						t.Errorf("finding has %q: %s", not, line)
					}
				}
			}
		})
	}
}
