package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/gitship/gitship/shared/wrapper"
)

const repoRoot = "../.."

// TestReleaseVSIX is the release of one step, publish, made the way make
// release makes all of them: its images, its action pinned to the image's
// digest, its binary for all four platforms as release assets, the VSIX
// (no binaries, their checksums) and the bundled VSIX packed by tfx. The
// VSIX's task is then unpacked and run the way an Azure agent runs it,
// against the assets served on loopback as a GitHub release serves them:
// it downloads, verifies, caches and runs its binary, runs it from the
// tool cache the second time, and refuses a tampered asset. One step, not
// five, to keep CI quick: the packaging is the same for each, and the cost
// is the cross-compiling (about 1.5 CPU-minutes cold for publish's three
// non-linux/amd64 platforms).
//
// tfx must be on PATH (npm install -g tfx-cli@0.23.1, as .ci/run does);
// without it the test is skipped, or fails when GITSHIP_TEST_STRICT is set.
func TestReleaseVSIX(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles a step for four platforms and packs a VSIX")
	}
	tfx, err := exec.LookPath("tfx")
	if err != nil {
		why := "tfx is not installed (npm install -g tfx-cli@0.23.1): the VSIX is not built"
		if os.Getenv("GITSHIP_TEST_STRICT") != "" {
			t.Fatal(why + "; GITSHIP_TEST_STRICT is set")
		}
		t.Skip(why)
	}
	// A version the wrappers accept: the actions' major, as a release must.
	version := strings.TrimPrefix(wrapper.Ref, "v") + ".7.3"
	out := t.TempDir()
	var log strings.Builder
	res, err := Run(context.Background(), Options{Root: repoRoot, Version: version, Out: out,
		ImageRepo: "registry.example.com/acme", Steps: []string{"publish"}, Platforms: DefaultPlatforms,
		TFX: []string{tfx}, Bundled: true}, &log)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, log.String())
	}
	var sum strings.Builder
	res.Summary(&sum)
	t.Log(sum.String())

	// The action runs the image by the digest of the index imagegen wrote.
	layoutDir := filepath.Join(out, "images", "gitship-publish")
	lp, err := layout.FromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil || len(tm.Manifests) != 1 {
		t.Fatalf("%s/index.json: %v, %v", layoutDir, tm, err)
	}
	digest := tm.Manifests[0].Digest
	image := "registry.example.com/acme/gitship-publish@" + digest.String()
	action, err := os.ReadFile(filepath.Join(out, "actions", "steps", "publish", "action.yml"))
	if err != nil || !strings.Contains(string(action), "\n  image: docker://"+image+"\n") {
		t.Errorf("actions/steps/publish/action.yml (err %v) does not run %s:\n%s", err, image, action)
	}
	root, err := os.ReadFile(filepath.Join(out, "actions", "action.yml"))
	if err != nil || !strings.Contains(string(root), "uses: "+wrapper.Repo+"/steps/publish@v"+version+"\n") {
		t.Errorf("actions/action.yml (err %v) does not use the publish action at v%s", err, version)
	}
	if images, _ := os.ReadFile(filepath.Join(out, "images.txt")); string(images) != image+"\n" {
		t.Errorf("images.txt = %q, want %q", images, image+"\n")
	}

	// The linux binaries are the ones in the image, byte for byte.
	idx, err := top.ImageIndex(digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		inImage := imageFile(t, img, "usr/local/bin/gitship-step")
		bin := filepath.Join(out, "assets", wrapper.AssetName("publish", d.Platform.OS, d.Platform.Architecture))
		if got := fileSum(t, bin); got != inImage {
			t.Errorf("%s is %s, the image's binary for %s is %s", bin, got, d.Platform, inImage)
		}
	}

	// The VSIX carries no binaries, only their checksums; the bundled one
	// carries them where the shim looks first.
	vsix := filepath.Join(out, "gitship-"+version+".vsix")
	bundled := filepath.Join(out, "gitship-"+version+"-bundled.vsix")
	t.Logf("VSIX %d bytes, bundled VSIX %d bytes (one step, four platforms)", res.VSIXLen, res.BundledLen)
	if res.VSIXLen > VSIXMax {
		t.Errorf("the VSIX is %d bytes, over %d", res.VSIXLen, VSIXMax)
	}
	taskFiles := []string{"PublishV1/task.json", "PublishV1/index.js", "PublishV1/step.json", "PublishV1/release.json"}
	var bins []string
	for _, p := range DefaultPlatforms {
		goos, goarch, _ := strings.Cut(p, "/")
		exe := "gitship-publish"
		if goos == "windows" {
			exe += ".exe"
		}
		bins = append(bins, "PublishV1/bin/"+goos+"-"+goarch+"/"+exe)
	}
	for _, v := range []struct {
		file      string
		want, not []string
		bundled   bool
	}{
		{vsix, taskFiles, bins, false},
		{bundled, append(slices.Clone(taskFiles), bins...), nil, true},
	} {
		names := zipNames(t, v.file)
		for _, want := range append([]string{"extension.vsixmanifest", "extension.vsomanifest"}, v.want...) {
			if !slices.Contains(names, want) {
				t.Errorf("%s lacks %s; it holds %v", filepath.Base(v.file), want, names)
			}
		}
		for _, n := range names {
			if slices.Contains(v.not, n) || strings.HasPrefix(n, "LintV1/") || strings.HasPrefix(n, "shim/") {
				t.Errorf("%s holds %s", filepath.Base(v.file), n)
			}
		}
	}

	// release.json has each asset's checksum; assets/SHA256SUMS and
	// SHA256SUMS have every file's.
	var rel releaseFile
	if err := json.Unmarshal(zipFile(t, vsix, "PublishV1/release.json"), &rel); err != nil {
		t.Fatal(err)
	}
	if rel.Version != version || len(rel.Assets) != len(DefaultPlatforms) {
		t.Errorf("release.json = %+v, want version %s and %d assets", rel, version, len(DefaultPlatforms))
	}
	for plat, a := range rel.Assets {
		if got := fileSum(t, filepath.Join(out, "assets", a.Name)); got != a.SHA256 {
			t.Errorf("release.json: %s %s has %s, the asset is %s", plat, a.Name, a.SHA256, got)
		}
	}
	sums := readSums(t, filepath.Join(out, "SHA256SUMS"))
	for _, name := range []string{"gitship-" + version + ".vsix", "gitship-" + version + "-bundled.vsix", "images.txt", "actions/action.yml",
		"actions/steps/publish/action.yml", "assets/gitship-publish-windows-amd64.exe", "assets/gitship-publish-darwin-arm64"} {
		if got := fileSum(t, filepath.Join(out, name)); sums[name] != got {
			t.Errorf("SHA256SUMS has %q for %s, want %s", sums[name], name, got)
		}
	}
	assetSums := readSums(t, filepath.Join(out, "assets", "SHA256SUMS"))
	if len(assetSums) != len(DefaultPlatforms) {
		t.Errorf("assets/SHA256SUMS lists %d files, want %d", len(assetSums), len(DefaultPlatforms))
	}
	for name, sum := range assetSums {
		if got := fileSum(t, filepath.Join(out, "assets", name)); got != sum {
			t.Errorf("assets/SHA256SUMS has %s for %s, want %s", sum, name, got)
		}
	}

	// The setup action (macOS, Windows and Linux runners) carries the
	// assets' checksums and installs the runner's binary from the
	// release's assets served on loopback, as a composite step runs it.
	if got, want := readSums(t, filepath.Join(out, "actions", "setup", "SHA256SUMS")), assetSums; !maps.Equal(got, want) {
		t.Errorf("actions/setup/SHA256SUMS = %v, want the assets' %v", got, want)
	}
	if runtime.GOOS == "linux" && slices.Contains(DefaultPlatforms, runtime.GOOS+"/"+runtime.GOARCH) {
		srv := newReleaseServer(t, filepath.Join(out, "assets"))
		tools := t.TempDir()
		cmd := exec.Command("bash", filepath.Join(out, "actions", "setup", "install.sh"))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "RUNNER_OS=Linux", "RUNNER_ARCH=" + map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH],
			"RUNNER_TOOL_CACHE=" + tools, "GITHUB_ACTION_PATH=" + filepath.Join(out, "actions", "setup"),
			"GITSHIP_ACTION_REF=v" + version, "GITSHIP_STEPS=publish", "GITSHIP_DOWNLOAD_URL=" + srv.URL + "/v{version}/{asset}"}
		if got, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("the release's setup action: %v\n%s", err, got)
		} else if got, err := exec.Command(filepath.Join(tools, "gitship", version, runtime.GOOS+"-"+runtime.GOARCH, "gitship-publish"), "--version").CombinedOutput(); err != nil || !strings.Contains(string(got), version) {
			t.Errorf("gitship-publish --version installed by the setup action: %q, %v", got, err)
		}
	}

	// The task, unpacked as an agent unpacks it (a zip keeps no exec bit),
	// downloads its binary from the release's assets served on loopback,
	// checks it, caches it in the tool cache, and runs it.
	node, err := exec.LookPath("node")
	plat := runtime.GOOS + "/" + runtime.GOARCH
	if err != nil || !slices.Contains(DefaultPlatforms, plat) || runtime.GOOS == "windows" {
		t.Logf("not running the unpacked task: node %v, platform %s", err, plat)
		return
	}
	if cfg := string(zipFile(t, vsix, "PublishV1/step.json")); !strings.Contains(cfg, `"downloadUrl": "`+wrapper.DownloadURL+`"`) {
		t.Errorf("step.json does not pin %s:\n%s", wrapper.DownloadURL, cfg)
	}
	asset := wrapper.AssetName("publish", runtime.GOOS, runtime.GOARCH)
	srv := newReleaseServer(t, filepath.Join(out, "assets"))
	downloadURL := srv.URL + "/v{version}/{asset}"
	runTask := func(task, tools string) (string, int) {
		t.Helper()
		cmd := exec.Command(node, filepath.Join(task, "index.js"))
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"PATH=/usr/bin:/bin", "TF_BUILD=True", "BUILD_SOURCESDIRECTORY=" + cmd.Dir,
			"AGENT_TEMPDIRECTORY=" + t.TempDir(), "AGENT_TOOLSDIRECTORY=" + tools, "GITSHIP_DOWNLOAD_URL=" + downloadURL}
		got, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("node %s/index.js: %v", task, err)
		}
		return string(got), code
	}
	// No inputs: publish starts, reads its configuration and refuses it.
	refused := []string{"--repository is required", "##vso[task.complete result=Failed;]gitship-publish exited with 2"}
	task := unzipTask(t, vsix, "PublishV1")
	tools := t.TempDir()
	nodeArch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	cached := filepath.Join(tools, "gitship-publish", version, nodeArch, "gitship-publish")

	got, code := runTask(task, tools)
	if code != 2 || srv.hits() != 1 {
		t.Errorf("first run: exit %d, %d downloads; want exit 2 after 1 download:\n%s", code, srv.hits(), got)
	}
	for _, want := range append([]string{"gitship-publish: downloading " + srv.URL + "/v" + version + "/" + asset, "gitship-publish: cached " + cached}, refused...) {
		if !strings.Contains(got, want) {
			t.Errorf("first run: output lacks %q:\n%s", want, got)
		}
	}
	if _, err := os.Stat(filepath.Join(tools, "gitship-publish", version, nodeArch+".complete")); err != nil {
		t.Errorf("no tool cache marker: %v", err)
	}
	if v, err := exec.Command(cached, "--version").CombinedOutput(); err != nil || strings.TrimSpace(string(v)) != "gitship-publish version "+version {
		t.Errorf("%s --version = %q, %v; want the release's version %s", cached, v, err, version)
	}

	got, code = runTask(task, tools)
	if code != 2 || srv.hits() != 1 || !strings.Contains(got, "gitship-publish: "+cached+" (tool cache, "+version+")") {
		t.Errorf("second run: exit %d, %d downloads in all; want exit 2 from the tool cache, no download:\n%s", code, srv.hits(), got)
	}

	// A tampered asset is refused: nothing runs, nothing is cached.
	srv.tamper(asset)
	tampered := t.TempDir()
	got, code = runTask(task, tampered)
	want := fmt.Sprintf("##vso[task.issue type=error;]%s/v%s/%s: SHA-256 mismatch for %s: expected %s (release.json of release %s), got %s; refused, nothing cached",
		srv.URL, version, asset, asset, rel.Assets[plat].SHA256, version, srv.tamperedSum)
	if code != 1 || !strings.Contains(got, want) || strings.Contains(got, "--repository is required") {
		t.Errorf("tampered asset: exit %d; want exit 1 with\n%s\ngot:\n%s", code, want, got)
	}
	if left, _ := os.ReadDir(tampered); len(left) != 0 {
		t.Errorf("after a tampered download the tool cache holds %v", left)
	}

	// The bundled VSIX's task runs its own binary, downloading nothing.
	hits := srv.hits()
	got, code = runTask(unzipTask(t, bundled, "PublishV1"), t.TempDir())
	if code != 2 || srv.hits() != hits || !strings.Contains(got, refused[0]) {
		t.Errorf("bundled task: exit %d, %d downloads; want exit 2 and none:\n%s", code, srv.hits()-hits, got)
	}
}

// releaseServer serves a release's assets as GitHub does, under
// /v<version>/<asset>, counting downloads; tamper makes it serve one asset
// with a byte changed.
type releaseServer struct {
	*httptest.Server
	n           atomic.Int64
	mu          sync.Mutex
	tampered    string
	tamperedSum string
	dir         string
}

func newReleaseServer(t *testing.T, dir string) *releaseServer {
	s := &releaseServer{dir: dir}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.n.Add(1)
		_, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if !ok || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		if name == s.tampered {
			data[len(data)/2] ^= 0xff
		}
		s.mu.Unlock()
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *releaseServer) hits() int { return int(s.n.Load()) }

func (s *releaseServer) tamper(asset string) {
	data, err := os.ReadFile(filepath.Join(s.dir, asset))
	if err != nil {
		panic(err)
	}
	data[len(data)/2] ^= 0xff
	sum := sha256.Sum256(data)
	s.mu.Lock()
	s.tampered, s.tamperedSum = asset, hex.EncodeToString(sum[:])
	s.mu.Unlock()
}

func zipNames(t *testing.T, p string) []string {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	return names
}

func zipFile(t *testing.T, p, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(p), err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// unzipTask unpacks one task folder of a VSIX as an agent does: the files,
// no modes.
func unzipTask(t *testing.T, vsix, dir string) string {
	t.Helper()
	zr, err := zip.OpenReader(vsix)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	task := filepath.Join(t.TempDir(), dir)
	for _, zf := range zr.File {
		name, ok := strings.CutPrefix(zf.Name, dir+"/")
		if !ok || strings.HasSuffix(zf.Name, "/") {
			continue
		}
		p := filepath.Join(task, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return task
}

func readSums(t *testing.T, p string) map[string]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("%s line %q", p, sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

// imageFile is the sha256 of a file in an image's layers.
func imageFile(t *testing.T, img v1.Image, name string) string {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Name == name {
				sum := sha256.New()
				if _, err := io.Copy(sum, tr); err != nil {
					t.Fatal(err)
				}
				rc.Close()
				return hex.EncodeToString(sum.Sum(nil))
			}
		}
		rc.Close()
	}
	t.Fatalf("no %s in the image", name)
	return ""
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	sum, err := sha256File(p)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestCheckBinary(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains([]string{"linux", "windows", "darwin"}, runtime.GOOS) ||
		!slices.Contains([]string{"amd64", "arm64"}, runtime.GOARCH) {
		t.Skipf("no check for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if err := CheckBinary(self, runtime.GOOS, runtime.GOARCH); err != nil {
		t.Errorf("CheckBinary(the test binary) = %v", err)
	}
	other := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	if err := CheckBinary(self, runtime.GOOS, other); err == nil || !strings.Contains(err.Error(), "want "+runtime.GOOS+"/"+other) {
		t.Errorf("CheckBinary for %s = %v, want a wrong-CPU error", other, err)
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		if goos == runtime.GOOS {
			continue
		}
		if err := CheckBinary(self, goos, runtime.GOARCH); err == nil {
			t.Errorf("CheckBinary took a %s binary as %s", runtime.GOOS, goos)
		}
	}
	text := filepath.Join(t.TempDir(), "gitship-lint")
	os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755)
	if err := CheckBinary(text, "linux", "amd64"); err == nil {
		t.Error("CheckBinary took a shell script")
	}
}

// VerifyVSIX fails a package that lacks release.json or (bundled) a
// binary, carries a binary it should not, carries a file other than the
// staged one, or is at the wrong version.
func TestVerifyVSIX(t *testing.T) {
	plats, _ := parsePlatforms([]string{"linux/amd64", "windows/amd64"})
	tasks := []Task{{Dir: "LintV1", Step: "lint"}}
	taskJSON := fmt.Sprintf(`{"version": {"Major": %d, "Minor": 4, "Patch": 5}}`, wrapper.TaskMajor)
	sum := strings.Repeat("ab", 32)
	releaseJSON := `{"version": "0.4.5", "assets": {"linux/amd64": {"name": "gitship-lint-linux-amd64", "sha256": "` + sum + `"},
		"windows/amd64": {"name": "gitship-lint-windows-amd64.exe", "sha256": "` + sum + `"}}}`
	base := map[string]string{
		"extension.vsixmanifest": `<PackageManifest><Metadata><Identity Id="gitship" Version="0.4.5" Publisher="gitship"/></Metadata></PackageManifest>`,
		"extension.vsomanifest":  `{}`,
		"LintV1/task.json":       taskJSON,
		"LintV1/index.js":        "// shim",
		"LintV1/step.json":       `{"step": "lint"}`,
		"LintV1/release.json":    releaseJSON,
	}
	bins := map[string]string{
		"LintV1/bin/linux-amd64/gitship-lint":       "ELF",
		"LintV1/bin/windows-amd64/gitship-lint.exe": "MZ",
	}
	stage := func(files map[string]string) string {
		staging := t.TempDir()
		for name, data := range files {
			if strings.HasPrefix(name, "LintV1/") {
				p := filepath.Join(staging, filepath.FromSlash(name))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		return staging
	}
	withBins := map[string]string{}
	for k, v := range base {
		withBins[k] = v
	}
	for k, v := range bins {
		withBins[k] = v
	}
	pack := func(files map[string]string, change func(map[string]string)) string {
		m := map[string]string{}
		for k, v := range files {
			m[k] = v
		}
		change(m)
		p := filepath.Join(t.TempDir(), "x.vsix")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		for name, data := range m {
			w, _ := zw.Create(name)
			w.Write([]byte(data))
		}
		zw.Close()
		f.Close()
		return p
	}
	same := func(map[string]string) {}
	tests := []struct {
		name    string
		bundled bool
		version string
		change  func(map[string]string)
		want    string
	}{
		{"good", false, "0.4.5", same, ""},
		{"good bundled", true, "0.4.5", same, ""},
		{"a binary in the download VSIX", false, "0.4.5", func(m map[string]string) { m["LintV1/bin/linux-amd64/gitship-lint"] = "ELF" }, "only the bundled VSIX carries binaries"},
		{"no release.json", false, "0.4.5", func(m map[string]string) { delete(m, "LintV1/release.json") }, "no LintV1/release.json"},
		{"release.json of another release", false, "0.4.5", func(m map[string]string) {
			m["LintV1/release.json"] = strings.Replace(releaseJSON, "0.4.5", "0.4.4", 1)
		}, `release.json: version "0.4.4"`},
		{"release.json without a platform", false, "0.4.5", func(m map[string]string) {
			m["LintV1/release.json"] = `{"version": "0.4.5", "assets": {"linux/amd64": {"name": "gitship-lint-linux-amd64", "sha256": "` + sum + `"}}}`
		}, "windows/amd64"},
		{"no binary", true, "0.4.5", func(m map[string]string) { delete(m, "LintV1/bin/windows-amd64/gitship-lint.exe") }, "no LintV1/bin/windows-amd64/gitship-lint.exe"},
		{"other binary", true, "0.4.5", func(m map[string]string) { m["LintV1/bin/linux-amd64/gitship-lint"] = "ELF2" }, "staged"},
		{"no manifest", false, "0.4.5", func(m map[string]string) { delete(m, "extension.vsixmanifest") }, "no extension.vsixmanifest"},
		{"extension version", false, "0.4.6", same, `version "0.4.5", want "0.4.6"`},
		{"task version", false, "0.4.5", func(m map[string]string) { m["LintV1/task.json"] = `{"version": {"Major": 1, "Minor": 0, "Patch": 0}}` }, "LintV1/task.json: version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := base
			if tt.bundled {
				files = withBins
			}
			err := VerifyVSIX(pack(files, tt.change), stage(files), tt.version, tasks, plats, tt.bundled)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("VerifyVSIX = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	v0 := strings.TrimPrefix(wrapper.Ref, "v") + ".1.0"
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"version", Options{Version: "v1.2.3"}, "MAJOR.MINOR.PATCH"},
		{"major past the ref", Options{Version: "9.0.0"}, "wrapper.Ref"},
		{"platform", Options{Version: v0, Platforms: []string{"linux/386"}}, "linux/386"},
		{"step", Options{Version: v0, Platforms: DefaultPlatforms, Steps: []string{"nope"}}, `no step "nope"`},
		{"out is root", Options{Version: v0, Out: repoRoot}, "repository root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Root = repoRoot
			if tt.o.Out == "" {
				tt.o.Out = t.TempDir()
			}
			tt.o.TFX = []string{"false"}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := Run(ctx, tt.o, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want %q", err, tt.want)
			}
		})
	}
}

// A release that fails, here at packing, leaves the output folder as it
// was: nothing of it is moved in, nothing of the last one is removed.
func TestFailedReleaseLeavesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and a binary")
	}
	out := t.TempDir()
	old := filepath.Join(out, "assets", "gitship-publish-linux-amd64")
	os.MkdirAll(filepath.Dir(old), 0o755)
	if err := os.WriteFile(old, []byte("the last release's"), 0o755); err != nil {
		t.Fatal(err)
	}
	version := strings.TrimPrefix(wrapper.Ref, "v") + ".0.1"
	_, err := Run(context.Background(), Options{Root: repoRoot, Version: version, Out: out, ImageRepo: "ghcr.io/gitship",
		Steps: []string{"publish"}, Platforms: []string{"linux/amd64"}, TFX: []string{"false"}}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "vsix") {
		t.Fatalf("Run with a failing tfx = %v, want a vsix error", err)
	}
	var left []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			left = append(left, filepath.ToSlash(rel))
		}
		return err
	})
	if !slices.Equal(left, []string{"assets/gitship-publish-linux-amd64"}) {
		t.Errorf("after a failed release %s holds %v, want only the last release's binary", out, left)
	}
	if data, _ := os.ReadFile(old); string(data) != "the last release's" {
		t.Errorf("the last release's binary was replaced")
	}
}
