package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/wrapper"
)

// fakeLayouts writes an OCI layout index.json per step the way imagegen
// does (one multi-platform index) and returns the folder and each step's
// digest. mediaType is the index entry's media type.
func fakeLayouts(t *testing.T, mediaType string, steps ...string) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	digests := map[string]string{}
	for _, s := range steps {
		d := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s)))
		digests[s] = d
		idx := map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.index.v1+json",
			"manifests": []any{map[string]any{
				"mediaType":   mediaType,
				"size":        607,
				"digest":      d,
				"annotations": map[string]string{"org.opencontainers.image.ref.name": "gitship-" + s + ":1.2.3"},
			}},
		}
		data, _ := json.Marshal(idx)
		p := filepath.Join(dir, "gitship-"+s, "index.json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, digests
}

const ociIndex = "application/vnd.oci.image.index.v1+json"

func allStepNames() []string {
	var names []string
	for _, s := range Steps() {
		names = append(names, s.Name)
	}
	return names
}

// A release's wrappers differ from the committed ones exactly where a
// release must: the images pinned by the layouts' digests, the root action
// on the release tag, the task and extension versions. Nothing is written
// to the repository.
func TestReleaseWrappers(t *testing.T) {
	root := tempRoot(t)
	layouts, digests := fakeLayouts(t, ociIndex, allStepNames()...)
	out := filepath.Join(t.TempDir(), "wrappers")
	code, stdout, stderr := runGen("-root", root, "-release", "0.3.4", "-image-digests", layouts,
		"-image-repo", "registry.example.com/acme/", "-out", out)
	if code != 0 {
		t.Fatalf("wrappergen -release = %d: %s", code, stderr)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("the root holds %d entries after -release, want only the shim's folder: the release went to the repository", len(entries))
	}
	committed, err := Generate(root, Steps())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, f := range committed {
		want[f.Path] = f.Data
	}
	read := func(p string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, filepath.Join(out, filepath.FromSlash(p))) {
			t.Errorf("stdout does not list %s:\n%s", p, stdout)
		}
		return string(data)
	}

	for _, s := range Steps() {
		p := "steps/" + s.Name + "/action.yml"
		got := read(p)
		pinned := "image: docker://registry.example.com/acme/gitship-" + s.Name + "@" + digests[s.Name]
		if !strings.Contains(got, "  "+pinned+"\n") {
			t.Errorf("%s does not pin the image by digest, want %q:\n%s", p, pinned, got)
		}
		moving := "image: docker://" + wrapper.Image(s)
		if strings.Replace(got, pinned, moving, 1) != string(want[p]) {
			t.Errorf("%s differs from the committed action in more than its image", p)
		}

		dir := "azure-pipelines-task/" + wrapper.TaskDir(s)
		var task struct {
			Version struct{ Major, Minor, Patch int }
		}
		if err := json.Unmarshal([]byte(read(dir+"/task.json")), &task); err != nil {
			t.Fatal(err)
		}
		if v := task.Version; v.Major != wrapper.TaskMajor || v.Minor != 3 || v.Patch != 4 {
			t.Errorf("%s/task.json version %+v, want %d.3.4", dir, v, wrapper.TaskMajor)
		}
		for _, f := range []string{wrapper.ShimFile, wrapper.ShimConfigFile} {
			if read(dir+"/"+f) != string(want[dir+"/"+f]) {
				t.Errorf("%s/%s differs from the committed one", dir, f)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "docs")); err == nil {
			t.Errorf("a release writes reference pages; they are not shipped")
		}
	}

	rootAction := read("action.yml")
	for _, s := range Steps() {
		if !strings.Contains(rootAction, "uses: "+wrapper.Repo+"/steps/"+s.Name+"@v0.3.4\n") {
			t.Errorf("the root action does not run %s at the release tag:\n%s", s.Name, rootAction)
		}
	}
	var ext struct{ Version string }
	if err := json.Unmarshal([]byte(read("azure-pipelines-task/vss-extension.json")), &ext); err != nil {
		t.Fatal(err)
	}
	if ext.Version != "0.3.4" {
		t.Errorf("vss-extension.json version %q, want 0.3.4", ext.Version)
	}
}

// -image names a step's image directly, over -image-digests; -steps makes
// a release of some steps only.
func TestReleaseImageFlagAndSteps(t *testing.T) {
	root := tempRoot(t)
	out := t.TempDir()
	ref := "ghcr.io/gitship/gitship-publish@sha256:" + strings.Repeat("ab", 32)
	code, _, stderr := runGen("-root", root, "-release", "0.2.0", "-steps", "publish", "-image", "publish="+ref, "-out", out)
	if code != 0 {
		t.Fatalf("wrappergen = %d: %s", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "steps", "publish", "action.yml"))
	if err != nil || !strings.Contains(string(data), "image: docker://"+ref+"\n") {
		t.Errorf("steps/publish/action.yml (err %v) does not use the -image ref:\n%s", err, data)
	}
	if _, err := os.Stat(filepath.Join(out, "steps", "lint")); err == nil {
		t.Errorf("-steps publish wrote lint's action")
	}
	var ext struct{ Files []struct{ Path string } }
	data, _ = os.ReadFile(filepath.Join(out, "azure-pipelines-task", "vss-extension.json"))
	if err := json.Unmarshal(data, &ext); err != nil || len(ext.Files) != 1 || ext.Files[0].Path != "PublishV1" {
		t.Errorf("vss-extension.json files %+v (err %v), want PublishV1 only", ext.Files, err)
	}
}

func TestReleaseErrors(t *testing.T) {
	root := tempRoot(t)
	indexes, _ := fakeLayouts(t, ociIndex, allStepNames()...)
	images, _ := fakeLayouts(t, "application/vnd.oci.image.manifest.v1+json", allStepNames()...)
	partial, _ := fakeLayouts(t, ociIndex, "lint")
	out := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"-release", "0.1.0", "-image-digests", indexes}, 2, "needs -out"},
		{"out is the root", []string{"-release", "0.1.0", "-image-digests", indexes, "-out", root}, 2, "repository root"},
		{"out without release", []string{"-out", out}, 2, "go with -release"},
		{"check", []string{"-release", "0.1.0", "-check", "-out", out}, 2, "-check"},
		{"v prefix", []string{"-release", "v0.1.0", "-image-digests", indexes, "-out", out}, 1, "MAJOR.MINOR.PATCH"},
		{"prerelease", []string{"-release", "0.1.0-rc.1", "-image-digests", indexes, "-out", out}, 1, "MAJOR.MINOR.PATCH"},
		{"major past the ref", []string{"-release", "1.0.0", "-image-digests", indexes, "-out", out}, 1, "wrapper.Ref"},
		{"no images", []string{"-release", "0.1.0", "-out", out}, 1, "no released image"},
		{"missing layout", []string{"-release", "0.1.0", "-image-digests", partial, "-out", out}, 1, "build the images first"},
		{"image, not index", []string{"-release", "0.1.0", "-image-digests", images, "-out", out}, 1, "multi-platform image index"},
		{"tag, not digest", []string{"-release", "0.1.0", "-steps", "lint", "-image", "lint=ghcr.io/gitship/gitship-lint:v0", "-out", out}, 1, "repository@sha256"},
		{"unknown step", []string{"-release", "0.1.0", "-steps", "nope", "-out", out}, 2, `no step "nope"`},
		{"image of an unknown step", []string{"-release", "0.1.0", "-steps", "lint", "-image", "nope=x", "-out", out}, 2, `-image: no step "nope"`},
		{"bad image flag", []string{"-release", "0.1.0", "-image", "lint", "-out", out}, 2, "step=repository@sha256:digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runGen(append([]string{"-root", root}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("run(%v) = %d, %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed release wrote %d entries to -out", len(entries))
	}
}

func TestTaskVersion(t *testing.T) {
	major, minor, patch, err := TaskVersion("0.12.3")
	if err != nil || major != wrapper.TaskMajor || minor != 12 || patch != 3 {
		t.Errorf("TaskVersion(0.12.3) = %d.%d.%d, %v; want %d.12.3", major, minor, patch, err, wrapper.TaskMajor)
	}
	for _, v := range []string{"", "0.1", "01.2.3", "0.1.0+meta", "1.0.0"} {
		if _, _, _, err := TaskVersion(v); err == nil {
			t.Errorf("TaskVersion(%q) took it", v)
		}
	}
}
