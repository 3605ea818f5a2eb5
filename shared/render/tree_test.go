package render

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/* from the current output")

func TestWriteTreeGolden(t *testing.T) {
	tests := []struct {
		name   string
		render func() ([]Resource, error)
	}{
		{"chart", func() ([]Resource, error) {
			return RenderChart(context.Background(), Chart{Dir: "testdata/chart", Values: []string{"testdata/values/dev.yaml"}, KubeVersion: "1.31.0"})
		}},
		{"kustomize", func() ([]Resource, error) {
			return RenderKustomize(context.Background(), "testdata/kustomize/overlays/dev")
		}},
		{"manifests", func() ([]Resource, error) {
			return ReadManifests([]string{"testdata/manifests"}, nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := tt.render()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", tt.name)
			dir := filepath.Join(t.TempDir(), "rendered")
			if *update {
				dir = golden
			}
			files, err := WriteTree(dir, rs)
			if err != nil {
				t.Fatalf("WriteTree() error = %v", err)
			}
			want := tree(t, golden)
			got := tree(t, dir)
			if !slices.Equal(keys(got), keys(want)) {
				t.Fatalf("WriteTree() wrote %q, want %q", keys(got), keys(want))
			}
			for name, b := range want {
				if !bytes.Equal(got[name], b) {
					t.Errorf("%s =\n%s\nwant (%s)\n%s", name, got[name], filepath.Join(golden, name), b)
				}
			}
			var wantFiles []string
			for _, name := range keys(want) {
				if name != Marker {
					wantFiles = append(wantFiles, filepath.Join(dir, name))
				}
			}
			if !slices.Equal(files, wantFiles) {
				t.Errorf("WriteTree() = %q, want %q", files, wantFiles)
			}

			// The same input again: the same bytes, in place of the old tree.
			if _, err := WriteTree(dir, rs); err != nil {
				t.Fatalf("WriteTree() again: %v", err)
			}
			if again := tree(t, dir); !maps(again, got) {
				t.Error("WriteTree() of the same resources wrote different files the second time")
			}
		})
	}
}

func TestWriteTreeNames(t *testing.T) {
	r := func(apiVersion, kind, ns, name string) Resource {
		return Resource{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, Data: []byte("x: 1\n")}
	}
	tests := []struct {
		name string
		rs   []Resource
		want []string
	}{
		{"kind and name, lowercased", []Resource{r("apps/v1", "Deployment", "", "Web")}, []string{"deployment-web.yaml"}},
		{"unsafe characters", []Resource{r("rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:aggregate/view")},
			[]string{"clusterrole-system-aggregate-view.yaml"}},
		{"no name", []Resource{r("batch/v1", "Job", "", "")}, []string{"job.yaml"}},
		{"same name, other namespaces", []Resource{r("v1", "ConfigMap", "a", "c"), r("v1", "ConfigMap", "b", "c"), r("v1", "ConfigMap", "", "d")},
			[]string{"configmap-c_a.yaml", "configmap-c_b.yaml", "configmap-d.yaml"}},
		{"cluster-scoped and namespaced", []Resource{r("v1", "ConfigMap", "", "c"), r("v1", "ConfigMap", "a", "c")},
			[]string{"configmap-c.yaml", "configmap-c_a.yaml"}},
		{"same kind in two groups", []Resource{r("a.example.com/v1", "Widget", "", "w"), r("b.example.com/v1", "Widget", "", "w"), r("v1", "Widget", "", "w")},
			[]string{"widget-w_a.example.com.yaml", "widget-w_b.example.com.yaml", "widget-w_core.yaml"}},
		{"the same object twice is numbered in order", []Resource{r("v1", "ConfigMap", "a", "c"), r("v1", "ConfigMap", "a", "c"), r("v1", "ConfigMap", "b", "c")},
			[]string{"configmap-c_a_core.yaml", "configmap-c_a_core_2.yaml", "configmap-c_b.yaml"}},
		{"a name that looks like a suffix", []Resource{r("v1", "ConfigMap", "", "c-2"), r("v1", "ConfigMap", "", "c"), r("v1", "ConfigMap", "", "c")},
			[]string{"configmap-c-2.yaml", "configmap-c_core.yaml", "configmap-c_core_2.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fileNames(tt.rs); !slices.Equal(got, tt.want) {
				t.Errorf("fileNames() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteTreeOwnership(t *testing.T) {
	rs := []Resource{{APIVersion: "v1", Kind: "ConfigMap", Name: "new", Source: "k8s/new.yaml", Data: []byte("kind: ConfigMap\n")}}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // dir does not exist yet
		ok    bool
	}{
		{"new directory, parents too", func(t *testing.T, dir string) {}, true},
		{"empty directory", func(t *testing.T, dir string) { mkdir(t, dir) }, true},
		{"a tree it wrote", func(t *testing.T, dir string) {
			mkdir(t, filepath.Join(dir, "sub"))
			write(t, filepath.Join(dir, Marker), "")
			write(t, filepath.Join(dir, "configmap-old.yaml"), "old")
		}, true},
		{"someone's directory", func(t *testing.T, dir string) {
			mkdir(t, dir)
			write(t, filepath.Join(dir, "main.go"), "package main")
		}, false},
		{"a marker that is not a file", func(t *testing.T, dir string) {
			mkdir(t, filepath.Join(dir, Marker))
		}, false},
		{"a file", func(t *testing.T, dir string) {
			mkdir(t, filepath.Dir(dir))
			write(t, dir, "data")
		}, false},
		{"a symbolic link to a tree it wrote", func(t *testing.T, dir string) {
			target := dir + ".target"
			mkdir(t, target)
			write(t, filepath.Join(target, Marker), "")
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out", "rendered")
			tt.setup(t, dir)
			before := snapshot(t, filepath.Dir(dir))
			files, err := WriteTree(dir, rs)
			if !tt.ok {
				if !errors.Is(err, ErrNotOwned) || !errors.Is(err, ErrInput) {
					t.Fatalf("WriteTree() error = %v, want ErrNotOwned and ErrInput", err)
				}
				if !strings.Contains(err.Error(), dir) {
					t.Errorf("error %q does not name %s", err, dir)
				}
				if after := snapshot(t, filepath.Dir(dir)); !maps(after, before) {
					t.Errorf("WriteTree() changed %s on error: %q, was %q", filepath.Dir(dir), keys(after), keys(before))
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteTree() error = %v", err)
			}
			want := []string{filepath.Join(dir, "configmap-new.yaml")}
			if !slices.Equal(files, want) {
				t.Errorf("WriteTree() = %q, want %q", files, want)
			}
			got := tree(t, dir)
			if !slices.Equal(keys(got), []string{Marker, "configmap-new.yaml"}) {
				t.Errorf("after WriteTree() %s holds %q", dir, keys(got))
			}
			if s := string(got["configmap-new.yaml"]); s != "# Source: k8s/new.yaml\nkind: ConfigMap\n" {
				t.Errorf("configmap-new.yaml = %q", s)
			}
			if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
				t.Errorf("WriteTree() left temporary directories: %v", entries)
			}
		})
	}
}

// TestWriteTreeKeepsOldTreeOnError fails half way (a file name too long for
// the file system) and expects the previous tree untouched.
func TestWriteTreeKeepsOldTreeOnError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rendered")
	old := []Resource{{APIVersion: "v1", Kind: "ConfigMap", Name: "old", Data: []byte("a: 1\n")}}
	if _, err := WriteTree(dir, old); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, filepath.Dir(dir))
	bad := []Resource{old[0], {APIVersion: "v1", Kind: "ConfigMap", Name: strings.Repeat("n", 300), Data: []byte("a: 2\n")}}
	if _, err := WriteTree(dir, bad); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("WriteTree(name of 300 characters) error = %v, want one naming %s", err, dir)
	}
	if after := snapshot(t, filepath.Dir(dir)); !maps(after, before) {
		t.Errorf("WriteTree() changed the old tree on error: %q, was %q", keys(after), keys(before))
	}
}

// tree reads the regular files directly in dir.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
	}
	return out
}

// snapshot records every path under root with its content ("dir" for
// directories, the link target for links).
func snapshot(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[p] = []byte("link " + target)
			return err
		case d.IsDir():
			out[p] = []byte("dir")
		default:
			b, err := os.ReadFile(p)
			out[p] = b
			return err
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func maps(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
