package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A chart renders once per Kubernetes version when it reads .Capabilities,
// and once for all when nothing in it does; Chart.yaml's kubeVersion is
// checked against every version either way.
func TestRenderFor(t *testing.T) {
	caps := []Capabilities{{KubeVersion: "1.29.0"}, {KubeVersion: "1.33.0", APIVersions: []string{"example.com/v1"}}}
	tests := []struct {
		name    string
		files   map[string]string
		want    []string // kind name [versions]
		wantErr string
	}{
		{"same for all", map[string]string{
			"templates/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		}, []string{"ConfigMap a []"}, ""},
		{"kube version", map[string]string{
			"templates/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: {{ .Capabilities.KubeVersion.Minor | quote }}}\n" +
				"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
		}, []string{"ConfigMap a [1.29.0]", "ConfigMap b []", "ConfigMap a [1.33.0]"}, ""},
		{"api versions", map[string]string{
			"templates/a.yaml": "{{ if .Capabilities.APIVersions.Has \"example.com/v1\" }}apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n{{ end }}",
		}, []string{"Secret s [1.33.0]"}, ""},
		{"through tpl in values", map[string]string{
			"values.yaml":      "text: '{{ .Capabilities.KubeVersion.Minor }}'\n",
			"templates/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {v: {{ tpl .Values.text . | quote }}}\n",
		}, []string{"ConfigMap a [1.29.0]", "ConfigMap a [1.33.0]"}, ""},
		{"kubeVersion excludes one", map[string]string{
			"Chart.yaml":       "apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: '>=1.30.0-0'\n",
			"templates/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		}, nil, "chart requires kubeVersion: >=1.30.0-0 which is incompatible with Kubernetes v1.29.0"},
		{"kubeVersion excludes a later one", map[string]string{
			"Chart.yaml":       "apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: '<1.30.0-0'\n",
			"templates/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		}, nil, "incompatible with Kubernetes v1.33.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n"}
			for k, v := range tt.files {
				files[k] = v
			}
			for name, content := range files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rs, err := renderChartFor(context.Background(), Chart{Dir: dir}, caps)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, r := range rs {
				if r.Index != i {
					t.Errorf("%s %s: index %d, want %d", r.Kind, r.Name, r.Index, i)
				}
				got = append(got, r.Kind+" "+r.Name+" ["+strings.Join(r.Versions, " ")+"]")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
