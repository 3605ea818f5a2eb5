package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataUpToDate regenerates the catalog of the release this modfile
// pins, twice, and compares it with the one shared/schema embeds:
//
//	go test -modfile=go.1.35.mod .
func TestDataUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a catalog")
	}
	var got [][]byte
	var name string
	for range 2 {
		dir := t.TempDir()
		var stdout, stderr bytes.Buffer
		if code := run([]string{"-dir", dir}, &stdout, &stderr); code != 0 {
			t.Fatalf("run() = %d\n%s", code, stderr.String())
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.json.gz"))
		if err != nil || len(files) != 1 {
			t.Fatalf("run() wrote %q, %v; want one file", files, err)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		name = filepath.Base(files[0])
		got = append(got, b)
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Errorf("two runs wrote different bytes")
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "shared", "schema", "data", name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[0], want) {
		t.Errorf("shared/schema/data/%s is out of date: run go generate ./shared/schema", name)
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
