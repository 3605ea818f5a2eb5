package main

import (
	"strings"
	"testing"
)

// Errors point at the key in the file a human edits: a duplicate key in a
// manifest, a List item (whose columns are its List's, not the item's
// de-indented text) and a chart template (whose lines are not the rendered
// document's). Before, a duplicate key was "error converting YAML to JSON:
// yaml: unmarshal errors: line 7: key "a" already set in map", a line of
// the rendered document (one short of the template's under a "{{- if"),
// and a List item's column was the item's own (3 for 7).
func TestPositions(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  []string
	}{
		{"duplicate key in a manifest", map[string]string{"cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: web
  labels:
    app: web
    app: api
data:
  k: v
  k: w
`}, []string{"--manifests", "cm.yaml"}, []string{
			`cm.yaml:7:5: error: ConfigMap web: metadata.labels.app: duplicate key "app" (first at line 6) [VL1003]`,
			`cm.yaml:10:3: error: ConfigMap web: data.k: duplicate key "k" (first at line 9) [VL1003]`,
		}},
		{"List items", map[string]string{"list.yaml": `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: x
    data:
      k: 1
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: y
      annotations:
        a: b
        a: c
`}, []string{"--manifests", "list.yaml"}, []string{
			`list.yaml:9:7: error: ConfigMap x: data.k: wrong type: got number, want string [VL1001]`,
			`list.yaml:16:9: error: ConfigMap y: metadata.annotations.a: duplicate key "a" (first at line 15) [VL1003]`,
		}},
		{"duplicate key in a chart template", map[string]string{
			"chart/Chart.yaml":  "apiVersion: v2\nname: c\nversion: 0.1.0\n",
			"chart/values.yaml": "podAnnotations:\n  team: web\n",
			"chart/templates/deployment.yaml": `{{- if true }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
      annotations:
        prometheus.io/scrape: "true"
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        prometheus.io/scrape: "false"
    spec:
      containers:
        - name: web
          image: nginx
{{- end }}
`}, []string{"--chart", "chart", "--release-name", "web"}, []string{
			`chart/templates/deployment.yaml:17: error: Deployment web: spec.template.metadata.annotations["prometheus.io/scrape"]: duplicate key "prometheus.io/scrape" (first at line 13) [VL1003]`,
		}},
		{"duplicate key a template does not spell out", map[string]string{
			"chart/Chart.yaml":  "apiVersion: v2\nname: c\nversion: 0.1.0\n",
			"chart/values.yaml": "labels:\n  app: web\n",
			"chart/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  labels:
    app: web
    {{- toYaml .Values.labels | nindent 4 }}
`}, []string{"--chart", "chart"}, []string{
			`chart/templates/cm.yaml: error: ConfigMap cm: metadata.labels.app: duplicate key "app" (first at rendered line 6) (rendered line 7) [VL1003]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, ws, name, content)
			}
			res := run(t, ws, nil, tt.args...)
			if res.Code != 1 {
				t.Fatalf("exit code = %d, want 1\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(res.Stdout, want+"\n") {
					t.Errorf("stdout lacks\n%s\n%s", want, res.Stdout)
				}
			}
		})
	}
}
