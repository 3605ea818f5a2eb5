package main

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/testenv"
)

// helmCLI is the helm CLI of the SDK version gitship links (tools/helm),
// the reference for what a chart repository and a Chart.lock look like.
func helmCLI(t *testing.T) func(dir string, args ...string) string {
	t.Helper()
	bin, err := gotool.Build(gotool.Command{Tool: "helm", Module: "helm.sh/helm/v3", Package: "helm.sh/helm/v3/cmd/helm", Env: "GITSHIP_HELM"})
	if err != nil {
		testenv.Unavailable(t, "helm CLI: %v", err)
	}
	home := t.TempDir()
	return func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
			"HELM_CACHE_HOME=" + filepath.Join(home, "cache"), "HELM_CONFIG_HOME=" + filepath.Join(home, "config"),
			"HELM_DATA_HOME=" + filepath.Join(home, "data")}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
}

// libChart writes version v of the chart lib into dir/lib-v: a
// ServiceAccount named after its version (with a field no ServiceAccount
// has from 2.0.0 on), and a helper the app's template includes.
func libChart(t *testing.T, dir, v string) string {
	t.Helper()
	d := filepath.Join(dir, "lib-"+v)
	writeFile(t, d, "Chart.yaml", "apiVersion: v2\nname: lib\nversion: "+v+"\n")
	writeFile(t, d, "templates/_helpers.tpl", `{{- define "lib.labels" }}app: {{ .Release.Name }}{{ end }}`)
	sa := "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: lib-" + strings.ReplaceAll(v, ".", "-") + "\n"
	if strings.HasPrefix(v, "2.") {
		sa += "automount: true\n"
	}
	writeFile(t, d, "templates/sa.yaml", sa)
	return d
}

// chartRepo is a real chart repository: lib's versions packaged with
// helm package and indexed with helm repo index (helm's
// repo.IndexDirectory), relative URLs, as a directory.
func chartRepo(t *testing.T, helm func(string, ...string) string, versions ...string) string {
	t.Helper()
	src, repo := t.TempDir(), t.TempDir()
	for _, v := range versions {
		helm(src, "package", libChart(t, src, v), "-d", repo)
	}
	helm(repo, "repo", "index", ".")
	return repo
}

// appChart writes the chart app into ws/app, depending on lib with the
// version constraint and repository given.
func appChart(t *testing.T, ws, constraint, repository string) {
	t.Helper()
	writeFile(t, ws, "app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: \""+constraint+"\"\n  repository: "+repository+"\n")
	writeFile(t, ws, "app/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels:\n    {{- include \"lib.labels\" . | nindent 4 }}\n")
}

// tree lists the files under dir, to show a run left it as it was.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(files)
	return files
}

// --dependency-update fetches a chart's dependencies the way helm
// dependency update (no Chart.lock) or build (a Chart.lock) would, from a
// real chart repository served on loopback or from a directory, into
// memory: the chart directory is not changed. Failures name the
// dependency, the repository and what to do, and exit 2.
func TestDependencyUpdate(t *testing.T) {
	helm := helmCLI(t)
	repo := chartRepo(t, helm, "1.2.3", "1.3.0", "2.0.0")
	// The server serves, first, the repository as it was when helm wrote
	// Chart.lock (lib 1.2.3 only), then as it is.
	var serving atomic.Pointer[string]
	serving.Store(ptr(chartRepo(t, helm, "1.2.3")))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.FileServer(http.Dir(*serving.Load())).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	t.Cleanup(auth.Close)
	// Accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn
		for {
			c, err := silent.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	closed := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	tampered := t.TempDir()
	for _, e := range []string{"index.yaml", "lib-1.3.0.tgz"} {
		data, _ := os.ReadFile(filepath.Join(repo, e))
		writeFile(t, tampered, e, string(data))
	}
	// The archive index.yaml names, with one byte more: its digest differs.
	f, _ := os.OpenFile(filepath.Join(tampered, "lib-1.3.0.tgz"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0})
	f.Close()

	// Chart.lock as helm dependency update writes it, then the repository
	// gains 1.3.0 and 2.0.0.
	locked := t.TempDir()
	appChart(t, locked, "1.x.x", srv.URL)
	helm(locked, "dependency", "update", "app")
	lock, err := os.ReadFile(filepath.Join(locked, "app", "Chart.lock"))
	if err != nil || !strings.Contains(string(lock), "version: 1.2.3") {
		t.Fatalf("helm dependency update wrote no Chart.lock pinning 1.2.3: %v\n%s", err, lock)
	}
	serving.Store(&repo)

	tests := []struct {
		name       string
		constraint string
		repository string
		lock       bool              // Chart.lock from helm dependency update above
		files      map[string]string // more files in the workspace
		args       []string
		code       int
		want       []string
	}{
		{"update: newest the constraint allows, from a server", "1.x.x", srv.URL, false, nil, nil, 0, []string{
			"chart app: dependency lib 1.3.0 from " + srv.URL + "/lib-1.3.0.tgz, in memory (app/charts unchanged)",
			"2 resources: 2 valid, 0 invalid"}},
		{"update: from a directory holding index.yaml", "~1.2", "file://" + repo, false, nil, nil, 0, []string{
			"dependency lib 1.2.3 from " + filepath.Join(repo, "lib-1.2.3.tgz"),
			"2 resources: 2 valid, 0 invalid"}},
		{"update: a copy in charts/ is replaced, as helm dependency build replaces it", "1.x.x", srv.URL, false, map[string]string{
			"app/charts/lib/Chart.yaml":        "apiVersion: v2\nname: lib\nversion: 0.9.0\n",
			"app/charts/lib/templates/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vendored\nautomount: true\n",
		}, nil, 0, []string{"dependency lib 1.3.0 from", "2 resources: 2 valid, 0 invalid"}},
		{"update: a mistake in the fetched chart is named by its archive", "2.x", srv.URL, false, nil, nil, 1, []string{
			"dependency lib 2.0.0 from " + srv.URL + "/lib-2.0.0.tgz", "app/charts/lib-2.0.0.tgz: error: ServiceAccount lib-2-0-0: automount", "1 of 2 resources failed"}},
		{"update: fetched once for several Kubernetes versions, each rendering anew", "1.x.x", srv.URL, false, map[string]string{
			"app/templates/version.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: version\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n",
		}, []string{"--kubernetes-version", "1.29.0,1.37.0"}, 0, []string{"dependency lib 1.3.0 from", "chart app: 4 resources (2 rendered for some of the Kubernetes versions only)", "4 resources: 4 valid, 0 invalid"}},
		{"update: a file:// chart replaces a copy in charts/ too", "1.x.x", "file://../lib", false, map[string]string{
			"lib/Chart.yaml":                   "apiVersion: v2\nname: lib\nversion: 1.5.0\n",
			"lib/templates/_helpers.tpl":       `{{- define "lib.labels" }}app: {{ .Release.Name }}{{ end }}`,
			"app/charts/lib/Chart.yaml":        "apiVersion: v2\nname: lib\nversion: 0.9.0\n",
			"app/charts/lib/templates/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: vendored\nautomount: true\n",
		}, nil, 0, []string{"chart app: 1 resources", "1 resources: 1 valid, 0 invalid"}},
		{"a dependency without a repository must be in charts/", "1.x.x", `""`, false, nil, nil, 2, []string{
			"dependency lib 1.x.x is in Chart.yaml but not in app/charts: a dependency without a repository must be in charts/ (helm dependency build app does not fetch it either)"}},
		{"a helm repo add name is refused", "1.x.x", "\"@bitnami\"", false, nil, nil, 2, []string{
			"dependency lib from @bitnami: that names a repository registered with helm repo add, which gitship does not read; write the repository's URL in Chart.yaml"}},
		{"build: the version Chart.lock pins, though 1.3.0 is newer", "1.x.x", srv.URL, true, nil, nil, 0, []string{
			"dependency lib 1.2.3 from " + srv.URL + "/lib-1.2.3.tgz (Chart.lock)"}},
		{"build: Chart.lock out of sync with Chart.yaml", "^2.0.0", srv.URL, true, nil, nil, 2, []string{
			"Chart.lock is out of sync with the dependencies of Chart.yaml: run helm dependency update"}},
		{"no version satisfies the constraint", "3.x", srv.URL, false, nil, nil, 2, []string{
			`dependency lib 3.x from ` + srv.URL + `: no version in the repository's index.yaml satisfies 3.x (it has 2.0.0, 1.3.0, 1.2.3): change the constraint in Chart.yaml`}},
		{"the repository wants credentials", "1.x.x", auth.URL, false, nil, nil, 2, []string{
			"dependency lib 1.x.x from " + auth.URL + ": GET " + auth.URL + "/index.yaml: 401 Unauthorized: the repository wants credentials, which --dependency-update does not send"}},
		{"nothing listens", "1.x.x", closed, false, nil, nil, 2, []string{
			"dependency lib 1.x.x from " + closed + ": GET " + closed + "/index.yaml: cannot reach the repository", "connection refused"}},
		{"the repository never answers", "1.x.x", "http://" + silent.Addr().String(), false, nil, []string{"--dependency-timeout", "2s"}, 2, []string{
			"GET http://" + silent.Addr().String() + "/index.yaml: no answer within 2s (--dependency-timeout): is the repository reachable from here?"}},
		{"an archive whose digest is not the index's", "1.x.x", "file://" + tampered, false, nil, nil, 2, []string{
			"lib-1.3.0.tgz: its sha256 is", "index.yaml says", "the repository is inconsistent or the download was altered"}},
		{"oci:// is not fetched", "1.x.x", "oci://127.0.0.1:5000/charts", false, nil, nil, 2, []string{
			"dependency lib from oci://127.0.0.1:5000/charts: --dependency-update does not fetch from OCI registries; run helm dependency build app"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			appChart(t, ws, tt.constraint, tt.repository)
			if tt.lock {
				writeFile(t, ws, "app/Chart.lock", string(lock))
			}
			for name, content := range tt.files {
				writeFile(t, ws, name, content)
			}
			before := tree(t, filepath.Join(ws, "app"))
			res := run(t, ws, nil, append([]string{"--chart", "app", "--dependency-update"}, tt.args...)...)
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
			// Fetched once, and said once, however often the chart renders.
			if n := strings.Count(out, ": dependency lib "); tt.code == 0 && strings.HasPrefix(tt.repository, "http") && n != 1 {
				t.Errorf("the fetch is reported %d times, want once:\n%s", n, out)
			}
			if after := tree(t, filepath.Join(ws, "app")); !slices.Equal(before, after) {
				t.Errorf("the chart directory changed: %v, was %v", after, before)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
