package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/gittest"
	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/internal/testenv"
)

// --dependency-update: a chart whose dependency is in no charts/ directory
// is rendered with it fetched from a real chart repository (helm package
// and helm repo index, served on loopback), and committed; the app's
// checkout is left as it was (no charts/, no Chart.lock).
func TestDependencyUpdate(t *testing.T) {
	bin, err := gotool.Build(gotool.Command{Tool: "helm", Module: "helm.sh/helm/v3", Package: "helm.sh/helm/v3/cmd/helm", Env: "GITSHIP_HELM"})
	if err != nil {
		testenv.Unavailable(t, "helm CLI: %v", err)
	}
	helm := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("helm %v: %v\n%s", args, err, out)
		}
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
	for _, v := range []string{"1.2.3", "1.3.0"} {
		d := filepath.Join(src, "lib-"+v)
		write(d, "Chart.yaml", "apiVersion: v2\nname: lib\nversion: "+v+"\n")
		write(d, "templates/sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: lib-"+strings.ReplaceAll(v, ".", "-")+"\n")
		helm(src, "package", d, "-d", repoDir)
	}
	helm(repoDir, "repo", "index", ".")
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	t.Cleanup(srv.Close)

	repo := newGitOpsRepo(t)
	ws, sha := app(t)
	write(ws, "deploy/shop/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 1.x.x\n  repository: "+srv.URL+"\n")
	write(ws, "deploy/shop/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  env: {{ .Values.env | default \"dev\" | quote }}\n")
	args := []string{"--gitops-repo", repo.url, "--environment", "dev", "--chart", "deploy/shop", "--direct"}

	res := run(t, ws, env(ws, sha, t.TempDir()), args...)
	if res.Code != 2 || !strings.Contains(res.Stdout+res.Stderr, "dependency lib 1.x.x from "+srv.URL+" is in Chart.yaml but not in deploy/shop/charts: run helm dependency build deploy/shop") {
		t.Errorf("without --dependency-update: exit code = %d, want 2 naming the dependency\n%s%s", res.Code, res.Stdout, res.Stderr)
	}

	res = run(t, ws, env(ws, sha, t.TempDir()), append(args, "--dependency-update")...)
	mustSucceed(t, res)
	if !strings.Contains(res.Stdout, "dependency lib 1.3.0 from "+srv.URL+"/lib-1.3.0.tgz") {
		t.Errorf("the log does not say what was fetched:\n%s", res.Stdout)
	}
	files := gittest.Files(t, repo.dir, "main")
	if sa := files["clusters/dev/shop/serviceaccount-lib-1-3-0.yaml"]; !strings.Contains(sa, "name: lib-1-3-0") {
		t.Errorf("the dependency's ServiceAccount was not committed: %q (files %v)", sa, keys(files))
	}
	if _, ok := files["clusters/dev/shop/configmap-shop.yaml"]; !ok {
		t.Errorf("the chart's ConfigMap was not committed: %v", keys(files))
	}
	for _, p := range []string{"deploy/shop/charts", "deploy/shop/Chart.lock"} {
		if _, err := os.Stat(filepath.Join(ws, p)); err == nil {
			t.Errorf("%s was written into the checkout", p)
		}
	}
	if st := gittest.Git(t, ws, "status", "--porcelain", "--untracked-files=all"); strings.Contains(st, "charts/") || strings.Contains(st, "Chart.lock") {
		t.Errorf("the checkout changed:\n%s", st)
	}
}
