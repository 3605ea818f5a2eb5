package imagesource

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestOpen reads each kind of file source and refuses what is not an
// image as ErrNotImage, bad input rather than a registry failure. The
// engine source is tested through the publish binary against dockerd.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	lay := filepath.Join(dir, "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	tar := filepath.Join(dir, "image.tar")
	if err := tarball.WriteToFile(tar, nil, img); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a tar"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyLayout := filepath.Join(dir, "empty")
	if _, err := layout.Write(emptyLayout, empty.Index); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, spec string
		digest     v1.Hash // of the artifact read
		notExist   bool    // the error is also fs.ErrNotExist
		errHas     string  // the refusal names this
	}{
		{name: "layout", spec: "oci:" + lay, digest: want},
		{name: "tarball", spec: "tarball:" + tar, digest: want},
		{name: "no kind", spec: lay, errHas: "want oci:DIR, tarball:FILE or docker:REF"},
		{name: "no argument", spec: "oci:", errHas: "want oci:DIR"},
		{name: "unknown kind", spec: "zip:" + tar, errHas: `unknown kind "zip"`},
		{name: "missing layout", spec: "oci:" + filepath.Join(dir, "none"), notExist: true, errHas: "oci layout"},
		{name: "empty layout", spec: "oci:" + emptyLayout, errHas: "lists no image"},
		{name: "missing tarball", spec: "tarball:" + filepath.Join(dir, "none.tar"), notExist: true, errHas: "none.tar"},
		{name: "tarball is a directory", spec: "tarball:" + lay, errHas: "an OCI layout is oci:" + lay},
		{name: "tarball is text", spec: "tarball:" + text, errHas: "not a tarball of docker save"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, cleanup, err := Open(context.Background(), tt.spec)
			defer cleanup()
			if tt.errHas != "" {
				if !errors.Is(err, ErrNotImage) || !strings.Contains(err.Error(), tt.errHas) || errors.Is(err, fs.ErrNotExist) != tt.notExist {
					t.Fatalf("Open(%q) = %v; want ErrNotImage naming %q (fs.ErrNotExist %v)", tt.spec, err, tt.errHas, tt.notExist)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q) = %v", tt.spec, err)
			}
			got, err := a.Digest()
			if err != nil || got != tt.digest || a.From != tt.spec {
				t.Errorf("Open(%q) = digest %v (%v), from %q; want %v from the spec", tt.spec, got, err, a.From, tt.digest)
			}
		})
	}
}
