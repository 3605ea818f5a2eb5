package main

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/gitship/gitship/shared/wrapper"
)

const repoRoot = "../.."

// TestReleaseVSIX is the release of one step, publish, made the way make
// release makes all of them: its images, its action pinned to the image's
// digest, its binary for all four platforms, and the VSIX packed by tfx,
// which is then unpacked and run the way an Azure agent runs the task. One
// step, not five, to keep CI quick: the packaging is the same for each,
// and the cost is the cross-compiling (about 1.5 CPU-minutes cold for
// publish's three non-linux/amd64 platforms).
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
		TFX: []string{tfx}}, &log)
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
		bin := filepath.Join(out, "bin", d.Platform.OS+"-"+d.Platform.Architecture, "gitship-publish")
		if got := fileSum(t, bin); got != inImage {
			t.Errorf("%s is %s, the image's binary for %s is %s", bin, got, d.Platform, inImage)
		}
	}

	// The package holds what the tasks need, as the shim expects it.
	vsix := filepath.Join(out, "gitship-"+version+".vsix")
	zr, err := zip.OpenReader(vsix)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	for _, want := range []string{
		"extension.vsixmanifest", "extension.vsomanifest",
		"PublishV1/task.json", "PublishV1/index.js", "PublishV1/step.json",
		"PublishV1/bin/linux-amd64/gitship-publish", "PublishV1/bin/linux-arm64/gitship-publish",
		"PublishV1/bin/windows-amd64/gitship-publish.exe", "PublishV1/bin/darwin-arm64/gitship-publish",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("%s lacks %s; it holds %v", filepath.Base(vsix), want, names)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "LintV1/") || strings.HasPrefix(n, "shim/") {
			t.Errorf("%s holds %s: only the released steps' tasks belong in it", filepath.Base(vsix), n)
		}
	}

	// Every file is in SHA256SUMS with its checksum.
	sums := map[string]string{}
	f, err := os.Open(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		sums[name] = sum
	}
	for _, name := range []string{"gitship-" + version + ".vsix", "images.txt", "actions/action.yml",
		"actions/steps/publish/action.yml", "bin/windows-amd64/gitship-publish.exe", "bin/darwin-arm64/gitship-publish"} {
		if got := fileSum(t, filepath.Join(out, name)); sums[name] != got {
			t.Errorf("SHA256SUMS has %q for %s, want %s", sums[name], name, got)
		}
	}

	// Unpacked as an agent unpacks it (a zip keeps no exec bit), the task
	// runs its binary for this machine through the shim.
	node, err := exec.LookPath("node")
	plat := runtime.GOOS + "/" + runtime.GOARCH
	if err != nil || !slices.Contains(DefaultPlatforms, plat) || runtime.GOOS == "windows" {
		t.Logf("not running the unpacked task: node %v, platform %s", err, plat)
		return
	}
	task := filepath.Join(t.TempDir(), "PublishV1")
	for _, zf := range zr.File {
		name, ok := strings.CutPrefix(zf.Name, "PublishV1/")
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
	cmd := exec.Command(node, filepath.Join(task, "index.js"))
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TF_BUILD=True", "BUILD_SOURCESDIRECTORY=" + cmd.Dir,
		"AGENT_TEMPDIRECTORY=" + t.TempDir()}
	got, _ := cmd.CombinedOutput()
	// No inputs: publish starts, reads its configuration and refuses it.
	for _, want := range []string{"--repository is required", "##vso[task.complete result=Failed;]gitship-publish exited with 2"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("node PublishV1/index.js: output lacks %q:\n%s", want, got)
		}
	}
	bin := filepath.Join(task, "bin", runtime.GOOS+"-"+runtime.GOARCH, "gitship-publish")
	v, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(v)) != "gitship-publish version "+version {
		t.Errorf("%s --version = %q, %v; want the release's version %s", bin, v, err, version)
	}
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

// VerifyVSIX fails a package that lacks a binary, carries a file other
// than the staged one, or is at the wrong version.
func TestVerifyVSIX(t *testing.T) {
	plats, _ := parsePlatforms([]string{"linux/amd64", "windows/amd64"})
	tasks := []Task{{Dir: "LintV1", Step: "lint"}}
	staging := t.TempDir()
	taskJSON := fmt.Sprintf(`{"version": {"Major": %d, "Minor": 4, "Patch": 5}}`, wrapper.TaskMajor)
	files := map[string]string{
		"extension.vsixmanifest":                    `<PackageManifest><Metadata><Identity Id="gitship" Version="0.4.5" Publisher="gitship"/></Metadata></PackageManifest>`,
		"extension.vsomanifest":                     `{}`,
		"LintV1/task.json":                          taskJSON,
		"LintV1/index.js":                           "// shim",
		"LintV1/step.json":                          `{"step": "lint"}`,
		"LintV1/bin/linux-amd64/gitship-lint":       "ELF",
		"LintV1/bin/windows-amd64/gitship-lint.exe": "MZ",
	}
	for name, data := range files {
		if strings.HasPrefix(name, "LintV1/") {
			p := filepath.Join(staging, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	pack := func(change func(map[string]string)) string {
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
	tests := []struct {
		name    string
		version string
		change  func(map[string]string)
		want    string
	}{
		{"good", "0.4.5", func(map[string]string) {}, ""},
		{"no binary", "0.4.5", func(m map[string]string) { delete(m, "LintV1/bin/windows-amd64/gitship-lint.exe") }, "no LintV1/bin/windows-amd64/gitship-lint.exe"},
		{"other binary", "0.4.5", func(m map[string]string) { m["LintV1/bin/linux-amd64/gitship-lint"] = "ELF2" }, "staged"},
		{"no manifest", "0.4.5", func(m map[string]string) { delete(m, "extension.vsixmanifest") }, "no extension.vsixmanifest"},
		{"extension version", "0.4.6", func(map[string]string) {}, `version "0.4.5", want "0.4.6"`},
		{"task version", "0.4.5", func(m map[string]string) { m["LintV1/task.json"] = `{"version": {"Major": 1, "Minor": 0, "Patch": 0}}` }, "LintV1/task.json: version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyVSIX(pack(tt.change), staging, tt.version, tasks, plats)
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
	old := filepath.Join(out, "bin", "linux-amd64", "gitship-publish")
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
	if !slices.Equal(left, []string{"bin/linux-amd64/gitship-publish"}) {
		t.Errorf("after a failed release %s holds %v, want only the last release's binary", out, left)
	}
	if data, _ := os.ReadFile(old); string(data) != "the last release's" {
		t.Errorf("the last release's binary was replaced")
	}
}
