package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/testenv"
)

// lint --dependency-update agrees with validate --dependency-update: a
// chart whose dependency is in no charts/ directory, and whose templates
// use that dependency's helpers, is linted with it fetched from a real
// chart repository (helm package and helm repo index, served on
// loopback), into a temporary copy: no finding, and the chart directory
// left as it was. Without the flag it is the missing-dependency error; a
// dependency that cannot be fetched is an error on its Chart.yaml line
// saying why.
func TestDependencyUpdate(t *testing.T) {
	bin, err := gotool.Build(gotool.Command{Tool: "helm", Module: "helm.sh/helm/v3", Package: "helm.sh/helm/v3/cmd/helm", Env: "GITSHIP_HELM"})
	if err != nil {
		testenv.Unavailable(t, "helm CLI: %v", err)
	}
	write := func(dir, name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, repoDir := t.TempDir(), t.TempDir()
	lib := filepath.Join(src, "lib")
	write(lib, "Chart.yaml", "apiVersion: v2\nname: lib\nversion: 1.3.0\n")
	write(lib, "templates/_helpers.tpl", `{{- define "lib.labels" }}app: {{ .Release.Name }}{{ end }}`)
	write(lib, "templates/sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: lib\n")
	cmd := exec.Command(bin, "package", lib, "-d", repoDir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm package: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, "repo", "index", repoDir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm repo index: %v\n%s", err, out)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	t.Cleanup(srv.Close)
	closed := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))

	chart := func(repository string) map[string]string {
		return map[string]string{
			"deploy/chart/Chart.yaml":            "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 1.x.x\n    repository: " + repository + "\n",
			"deploy/chart/values.yaml":           "replicas: 1\n",
			"deploy/chart/templates/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"lib.labels\" . | nindent 4 }}\ndata:\n  r: {{ .Values.replicas | quote }}\n",
			"deploy/chart/charts/old/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.9.0\n",
		}
	}
	tests := []struct {
		name       string
		repository string
		args       []string
		code       int
		want       []string
	}{
		{"without the flag", srv.URL, nil, 1, []string{
			"deploy/chart/Chart.yaml:5: error: dependency lib 1.x.x from " + srv.URL + " is in Chart.yaml but not in deploy/chart/charts: run helm dependency build deploy/chart (it fetches what Chart.lock pins into charts/), or lint and validate with --dependency-update [HL1000]"}},
		{"fetched into a copy", srv.URL, []string{"--dependency-update"}, 0, nil},
		{"from a directory holding index.yaml", "file://" + repoDir, []string{"--dependency-update"}, 0, nil},
		{"unreachable", closed, []string{"--dependency-update"}, 1, []string{
			"deploy/chart/Chart.yaml:5: error: dependency lib 1.x.x from " + closed + ": GET " + closed + "/index.yaml: cannot reach the repository"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			files := chart(tt.repository)
			if tt.name == "without the flag" {
				delete(files, "deploy/chart/charts/old/Chart.yaml")
			}
			for name, content := range files {
				write(ws, name, content)
			}
			before := tree(t, ws)
			res := run(t, ws, nil, append([]string{"--path", "deploy/chart"}, tt.args...)...)
			if res.Code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", res.Code, tt.code, res.Stdout, res.Stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Stdout, w) {
					t.Errorf("stdout lacks\n%s\n%s", w, res.Stdout)
				}
			}
			if tt.code == 0 && (strings.Contains(res.Stdout, ": error: ") || strings.Contains(res.Stdout, ": warning: ")) {
				t.Errorf("errors or warnings, want none (icon is recommended is the one info):\n%s", res.Stdout)
			}
			if strings.Contains(res.Stdout+res.Stderr, "gitship-lint-chart-") {
				t.Errorf("a finding names the temporary copy:\n%s%s", res.Stdout, res.Stderr)
			}
			if after := tree(t, ws); !slices.Equal(before, after) {
				t.Errorf("the workspace changed: %v, was %v", after, before)
			}
		})
	}
}

// tree lists the files under dir but the step's own outputs (.gitship/).
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if !strings.HasPrefix(rel, ".gitship") {
				files = append(files, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	slices.Sort(files)
	return files
}
