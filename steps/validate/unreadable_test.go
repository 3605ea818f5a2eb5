package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A document that is no Kubernetes object (no kind, no apiVersion, a
// list) is one unreadable resource, as kubeconform reports it: the other
// documents are still validated, their errors reported, and the report
// written. It used to end the run at render ("document has no kind"),
// exit 1, with no report and the other errors unseen.
func TestUnreadableDocument(t *testing.T) {
	chart := map[string]string{
		"chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  count: 1\n" +
			"---\n# the kind got lost in a condition\nmetadata:\n  name: {{ .Release.Name }}-lost\n",
	}
	manifests := map[string]string{"m.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: good
---
metadata:
  name: nokind
data:
  a: b
---
kind: ConfigMap
metadata:
  name: noapi
---
- just
- a list
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bad
data:
  a: 1
`}
	tests := []struct {
		name   string
		files  map[string]string
		args   []string
		want   []string // lines of stdout
		totals string
	}{
		{"manifests", manifests, []string{"--manifests", "m.yaml"}, []string{
			"m.yaml:6: error: document nokind: document has no kind [VL1003]",
			"m.yaml:11: error: ConfigMap noapi: document has no apiVersion [VL1003]",
			"m.yaml:15: error: document #4: document is not an object [VL1003]",
			"m.yaml:23:3: error: ConfigMap bad: data.a: wrong type: got number, want string [VL1001]",
		}, "5 resources: 1 valid, 1 invalid, 0 without a schema, 3 unreadable"},
		{"chart", chart, []string{"--chart", "chart", "--release-name", "web"}, []string{
			"chart/templates/cm.yaml: error: document web-lost: document has no kind (rendered line 2) [VL1003]",
			"chart/templates/cm.yaml:6: error: ConfigMap web: data.count: wrong type: got number, want string [VL1001]",
		}, "2 resources: 0 valid, 1 invalid, 0 without a schema, 1 unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, ws, name, content)
			}
			res := run(t, ws, nil, append(tt.args, "--format", "json", "--output", "report.json")...)
			if res.Code != 1 {
				t.Fatalf("exit code = %d, want 1\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
			}
			for _, want := range append(tt.want, tt.totals) {
				if !strings.Contains(res.Stdout, want+"\n") {
					t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
				}
			}
			data, err := os.ReadFile(filepath.Join(ws, "report.json"))
			if err != nil {
				t.Fatalf("no report: %v", err)
			}
			var doc struct {
				Resources []struct {
					Status string `json:"status"`
				} `json:"resources"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("report.json: %v\n%s", err, data)
			}
			errors := 0
			for _, r := range doc.Resources {
				if r.Status == "error" {
					errors++
				}
			}
			if want := len(tt.want) - 1; errors != want {
				t.Errorf("report.json has %d resources in error, want %d:\n%s", errors, want, data)
			}
		})
	}
	t.Run("render-to is not written", func(t *testing.T) {
		ws := t.TempDir()
		writeFile(t, ws, "m.yaml", manifests["m.yaml"])
		res := run(t, ws, nil, "--manifests", "m.yaml", "--render-to", "out")
		if res.Code != 1 || !strings.Contains(res.Stdout, "Rendered manifests not written to out: 3 documents are not Kubernetes objects") {
			t.Errorf("exit code = %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
		if _, err := os.Stat(filepath.Join(ws, "out")); err == nil {
			t.Errorf("out/ was written with documents missing")
		}
	})
}
