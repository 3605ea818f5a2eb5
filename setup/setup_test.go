// Tests of the setup action: install.sh run the way the runner runs a
// composite action's step (its env, GITHUB_PATH, GITHUB_OUTPUT), against
// a release-shaped directory served on loopback.
package setup_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// release is a release's assets served on loopback, counting downloads.
type release struct {
	dir  string
	srv  *httptest.Server
	mu   sync.Mutex
	gets []string
}

func newRelease(t *testing.T, assets map[string]string) *release {
	t.Helper()
	r := &release{dir: t.TempDir()}
	for name, body := range assets {
		if err := os.WriteFile(filepath.Join(r.dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := http.FileServer(http.Dir(r.dir))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.gets = append(r.gets, req.URL.Path)
		r.mu.Unlock()
		files.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *release) downloads() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.gets...)
}

// sums is a SHA256SUMS file of the assets, as tools/release writes it.
func sums(assets map[string]string) string {
	var b strings.Builder
	for name, body := range assets {
		h := sha256.Sum256([]byte(body))
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(h[:]), name)
	}
	return b.String()
}

// action is the action's folder as a release commits it: action.yml,
// install.sh and the release's SHA256SUMS.
func action(t *testing.T, sha256sums string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"action.yml", "install.sh"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if sha256sums != "" {
		if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sha256sums), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type runner struct {
	actionPath, toolCache, pathFile, outputFile string
	env                                         map[string]string
}

func newRunner(t *testing.T, actionPath string, env map[string]string) *runner {
	dir := t.TempDir()
	return &runner{actionPath: actionPath, toolCache: filepath.Join(dir, "toolcache"),
		pathFile: filepath.Join(dir, "path"), outputFile: filepath.Join(dir, "output"), env: env}
}

// run runs install.sh as the composite step does: bash, with the step's
// env and the runner's variables.
func (r *runner) run(t *testing.T) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(r.actionPath, "install.sh"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "RUNNER_TOOL_CACHE=" + r.toolCache,
		"GITHUB_ACTION_PATH=" + r.actionPath, "GITHUB_PATH=" + r.pathFile, "GITHUB_OUTPUT=" + r.outputFile,
		"GITSHIP_ACTION_REF=v0.3.1", "GITSHIP_STEPS=lint validate"}
	for k, v := range r.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func script(msg string) string { return "#!/bin/sh\necho " + msg + "\n" }

func TestInstallVerifiesCachesAndPutsOnPath(t *testing.T) {
	assets := map[string]string{
		"gitship-lint-linux-amd64":     script("lint 0.3.1"),
		"gitship-validate-linux-amd64": script("validate 0.3.1"),
	}
	rel := newRelease(t, assets)
	r := newRunner(t, action(t, sums(assets)), map[string]string{"GITSHIP_DOWNLOAD_URL": rel.srv.URL + "/v{version}/{asset}"})
	if err := os.Rename(rel.dir, rel.dir+".tmp"); err != nil { // serve under /v0.3.1/
		t.Fatal(err)
	}
	if err := os.MkdirAll(rel.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(rel.dir+".tmp", filepath.Join(rel.dir, "v0.3.1")); err != nil {
		t.Fatal(err)
	}

	out, err := r.run(t)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	want := filepath.Join(r.toolCache, "gitship", "0.3.1", "linux-amd64")
	path, _ := os.ReadFile(r.pathFile)
	if strings.TrimSpace(string(path)) != want {
		t.Errorf("GITHUB_PATH = %q, want %q", path, want)
	}
	output, _ := os.ReadFile(r.outputFile)
	if strings.TrimSpace(string(output)) != "path="+want {
		t.Errorf("GITHUB_OUTPUT = %q", output)
	}
	for _, s := range []string{"lint", "validate"} {
		got, err := exec.Command(filepath.Join(want, "gitship-"+s)).Output()
		if err != nil || strings.TrimSpace(string(got)) != s+" 0.3.1" {
			t.Errorf("gitship-%s ran: %q, %v", s, got, err)
		}
	}
	if got := rel.downloads(); len(got) != 2 {
		t.Errorf("first run downloaded %v, want the 2 assets", got)
	}

	// A second job on the same runner takes them from the tool cache.
	if out, err := r.run(t); err != nil {
		t.Fatalf("second install: %v\n%s", err, out)
	} else if !strings.Contains(out, "(0 downloaded)") {
		t.Errorf("second run:\n%s", out)
	}
	if got := rel.downloads(); len(got) != 2 {
		t.Errorf("second run downloaded again: %v", got)
	}
}

func TestInstallPicksTheRunnersAsset(t *testing.T) {
	for _, tc := range []struct{ os, arch, asset, bin string }{
		{"Linux", "ARM64", "gitship-lint-linux-arm64", "gitship-lint"},
		{"macOS", "ARM64", "gitship-lint-darwin-arm64", "gitship-lint"},
		{"Windows", "X64", "gitship-lint-windows-amd64.exe", "gitship-lint.exe"},
	} {
		t.Run(tc.os+"-"+tc.arch, func(t *testing.T) {
			assets := map[string]string{tc.asset: script("lint")}
			rel := newRelease(t, assets)
			r := newRunner(t, action(t, sums(assets)), map[string]string{
				"RUNNER_OS": tc.os, "RUNNER_ARCH": tc.arch, "GITSHIP_STEPS": "lint",
				"GITSHIP_DOWNLOAD_URL": rel.srv.URL + "/{asset}"})
			if out, err := r.run(t); err != nil {
				t.Fatalf("install: %v\n%s", err, out)
			}
			if got := rel.downloads(); len(got) != 1 || got[0] != "/"+tc.asset {
				t.Errorf("downloaded %v, want /%s", got, tc.asset)
			}
			goos := map[string]string{"Linux": "linux", "macOS": "darwin", "Windows": "windows"}[tc.os]
			goarch := map[string]string{"X64": "amd64", "ARM64": "arm64"}[tc.arch]
			if _, err := os.Stat(filepath.Join(r.toolCache, "gitship", "0.3.1", goos+"-"+goarch, tc.bin)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestInstallRefuses(t *testing.T) {
	good := map[string]string{"gitship-lint-linux-amd64": script("lint")}
	tampered := map[string]string{"gitship-lint-linux-amd64": script("evil")}
	for _, tc := range []struct {
		name   string
		served map[string]string
		sums   string
		env    map[string]string
		want   []string
	}{
		{name: "tampered asset", served: tampered, sums: sums(good),
			want: []string{"::error title=gitship setup::gitship-lint-linux-amd64 from", "refused", sums(good)[:64], sums(tampered)[:64]}},
		{name: "asset not in the release", served: good, sums: sums(good), env: map[string]string{"GITSHIP_STEPS": "lint verify"},
			want: []string{"has no checksum for gitship-verify-linux-amd64", "release 0.3.1 has no verify for linux/amd64"}},
		{name: "action used at a branch", served: good, sums: sums(good), env: map[string]string{"GITSHIP_ACTION_REF": "main"},
			want: []string{"no release version: the action ran at 'main'", "set version:"}},
		{name: "no checksums with the action", served: good, sums: "",
			want: []string{"no SHA256SUMS next to the action", "checksums:"}},
		{name: "server missing the asset", served: map[string]string{}, sums: sums(good),
			want: []string{"downloading gitship-lint-linux-amd64 from", "failed"}},
		{name: "unknown runner", served: good, sums: sums(good), env: map[string]string{"RUNNER_OS": "FreeBSD"},
			want: []string{"unknown RUNNER_OS 'FreeBSD'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel := newRelease(t, tc.served)
			env := map[string]string{"GITSHIP_STEPS": "lint", "GITSHIP_DOWNLOAD_URL": rel.srv.URL + "/{asset}"}
			for k, v := range tc.env {
				env[k] = v
			}
			r := newRunner(t, action(t, tc.sums), env)
			out, err := r.run(t)
			if err == nil {
				t.Fatalf("install succeeded:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if n := strings.Count(out, "::error"); n != 1 {
				t.Errorf("%d ::error lines, want 1:\n%s", n, out)
			}
			// Nothing half-installed: no binary, nothing on PATH.
			if m, _ := filepath.Glob(filepath.Join(r.toolCache, "gitship", "*", "*", "*")); len(m) != 0 {
				t.Errorf("left in the tool cache: %v", m)
			}
			if _, err := os.Stat(r.pathFile); err == nil {
				t.Error("GITHUB_PATH written")
			}
		})
	}
}
