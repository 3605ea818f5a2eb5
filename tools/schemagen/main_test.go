package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataUpToDate regenerates the index of the release this modfile pins,
// twice, and compares it with the one shared/schema embeds; every
// definition it refers to must be in the embedded store as generated:
//
//	go test -modfile=go.1.35.mod .
func TestDataUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a catalog")
	}
	var got [][]byte
	var name string
	var store map[string][]byte
	for range 2 {
		dir := t.TempDir()
		var stdout, stderr bytes.Buffer
		if code := run([]string{"-dir", dir}, &stdout, &stderr); code != 0 {
			t.Fatalf("run() = %d\n%s", code, stderr.String())
		}
		files, err := filepath.Glob(filepath.Join(dir, "v*.json.gz"))
		if err != nil || len(files) != 1 {
			t.Fatalf("run() wrote %q, %v; want one index", files, err)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		name = filepath.Base(files[0])
		got = append(got, b)
		if store, err = readStore(filepath.Join(dir, storeName)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Errorf("two runs wrote different bytes")
	}
	data := filepath.Join("..", "..", "shared", "schema", "data")
	want, err := os.ReadFile(filepath.Join(data, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[0], want) {
		t.Errorf("shared/schema/data/%s is out of date: run go generate ./shared/schema", name)
	}
	embedded, err := readStore(filepath.Join(data, storeName))
	if err != nil {
		t.Fatal(err)
	}
	for h, b := range store {
		if !bytes.Equal(embedded[h], b) {
			t.Errorf("shared/schema/data/%s lacks definition %s: run go generate ./shared/schema", storeName, h)
		}
	}
}

// TestWriteStore writes three releases' catalogs into one directory: each
// definition is stored once whatever the number of releases using it, a
// release's index names its definitions by content, and rewriting a
// release drops what only its old version used.
func TestWriteStore(t *testing.T) {
	dir := t.TempDir()
	pod := map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "string"}}}
	podNew := map[string]any{"type": "object", "properties": map[string]any{"b": map[string]any{"type": "string"}}}
	only33 := map[string]any{"type": "object"}
	cat := func(version string, defs map[string]any) *catalog {
		return &catalog{Version: version, Kinds: []kind{{"", "v1", "Pod", "io.k8s.api.core.v1.Pod"}}, Definitions: defs}
	}
	for _, c := range []*catalog{
		cat("1.32.1", map[string]any{"io.k8s.api.core.v1.Pod": pod}),
		cat("1.33.1", map[string]any{"io.k8s.api.core.v1.Pod": pod, "io.k8s.api.x.v1.Gone": only33}),
		cat("1.34.1", map[string]any{"io.k8s.api.core.v1.Pod": podNew}),
	} {
		if _, _, _, err := write(dir, c); err != nil {
			t.Fatal(err)
		}
	}
	store, err := readStore(filepath.Join(dir, storeName))
	if err != nil {
		t.Fatal(err)
	}
	if len(store) != 3 {
		t.Errorf("store holds %d definitions, want 3 (pod, its 1.34 change, Gone)", len(store))
	}
	i32, err := readIndex(filepath.Join(dir, "v1.32.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	i33, err := readIndex(filepath.Join(dir, "v1.33.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if i32.Version != "1.32.1" || i32.Definitions["io.k8s.api.core.v1.Pod"] != i33.Definitions["io.k8s.api.core.v1.Pod"] {
		t.Errorf("1.32 and 1.33 index Pod as %q and %q, want one hash", i32.Definitions, i33.Definitions)
	}
	// 1.33 regenerated without Gone: the store forgets it.
	if _, _, _, err := write(dir, cat("1.33.2", map[string]any{"io.k8s.api.core.v1.Pod": pod})); err != nil {
		t.Fatal(err)
	}
	if store, err = readStore(filepath.Join(dir, storeName)); err != nil {
		t.Fatal(err)
	}
	if len(store) != 2 {
		t.Errorf("after 1.33 dropped Gone the store holds %d definitions, want 2", len(store))
	}
	// An index whose definitions no store holds cannot be carried forward.
	if err := os.Remove(filepath.Join(dir, storeName)); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = write(dir, cat("1.34.1", map[string]any{"io.k8s.api.core.v1.Pod": podNew}))
	if err == nil || !strings.Contains(err.Error(), "generate that release again") {
		t.Errorf("write with 1.32's definitions gone = %v, want an error naming the index", err)
	}
}

func TestModelName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"k8s.io/api/apps/v1.Deployment", "io.k8s.api.apps.v1.Deployment"},
		{"io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.Deployment"},
		{"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1.JSON", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"},
	}
	for _, tt := range tests {
		if got := modelName(tt.in); got != tt.want {
			t.Errorf("modelName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(modelName(tt.in), "/") {
			t.Errorf("modelName(%q) has a slash", tt.in)
		}
	}
}
