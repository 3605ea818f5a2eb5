package ocilayout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
)

func TestWriteRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "image")
	for i := range 2 { // the second Write replaces the first layout
		img, err := random.Image(1024, 2)
		if err != nil {
			t.Fatal(err)
		}
		digest, err := Write(dir, img, "app:abc")
		if err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
		got, err := Image(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := got.Digest(); d != digest {
			t.Errorf("read back digest %s, wrote %s", d, digest)
		}
		if _, err := Image(dir, "app:abc"); err != nil {
			t.Errorf("Image by ref name: %v", err)
		}
		if _, err := Image(dir, "app:other"); err == nil {
			t.Error("Image(app:other) found an image")
		}
		layers, _ := got.Layers()
		if len(layers) != 2 {
			t.Errorf("%d layers, want 2", len(layers))
		}
	}
	// Another user (the runner's, after a root container step) can read it.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		info, _ := d.Info()
		if err == nil && info.Mode().Perm()&0o044 != 0o044 {
			t.Errorf("%s is %v: not readable by group and others", p, info.Mode().Perm())
		}
		return nil
	})
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("temporary directories left beside the layout: %v", entries)
	}
}

func TestWriteRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main"), 0o644)
	img, _ := random.Image(10, 1)
	_, err := Write(dir, img, "")
	if err == nil || !strings.Contains(err.Error(), "not an OCI layout") {
		t.Fatalf("Write over a source directory: %v, want a refusal", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "main.go")); string(data) != "package main" {
		t.Error("the directory was touched")
	}
}
