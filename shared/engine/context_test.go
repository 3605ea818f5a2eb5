package engine

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFiles creates files (name → content) under dir; a name ending in
// "/" is a directory.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tarNames lists the entries of the context archive.
func tarNames(t *testing.T, bc *buildContext) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := bc.writeTar(&buf); err != nil {
		t.Fatalf("writeTar() = %v", err)
	}
	var names []string
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 {
			t.Errorf("%s owned by %d:%d, want 0:0", hdr.Name, hdr.Uid, hdr.Gid)
		}
		names = append(names, hdr.Name)
	}
	slices.Sort(names)
	return names
}

func TestContextArchive(t *testing.T) {
	base := map[string]string{
		"Dockerfile":      "FROM scratch\n",
		"main.go":         "package main\n",
		"secret.env":      "TOKEN=x\n",
		"logs/a.log":      "a\n",
		"logs/keep.log":   "keep\n",
		"docs/guide.md":   "#\n",
		"sub/Dockerfile":  "FROM scratch\n",
		"node_modules/x/": "",
	}
	tests := []struct {
		name       string
		ignore     string // .dockerignore; "" for none
		extra      map[string]string
		dockerfile string // relative to the context; "" for the default
		want       []string
	}{
		{
			name: "no ignore file sends everything",
			want: []string{"Dockerfile", "docs/", "docs/guide.md", "logs/", "logs/a.log", "logs/keep.log",
				"main.go", "node_modules/", "node_modules/x/", "secret.env", "sub/", "sub/Dockerfile"},
		},
		{
			name:   "patterns, a directory and an exception",
			ignore: "# comment\n*.env\nlogs\n!logs/keep.log\nnode_modules\n/docs/\n",
			want:   []string{".dockerignore", "Dockerfile", "logs/keep.log", "main.go", "sub/", "sub/Dockerfile"},
		},
		{
			name:   "the Dockerfile and the ignore file are sent even when ignored",
			ignore: ".dockerignore\nDockerfile\n*\n",
			want:   []string{".dockerignore", "Dockerfile"},
		},
		{
			name:       "a Dockerfile in an ignored directory is sent",
			ignore:     "sub\ndocs\nlogs\nnode_modules\n",
			dockerfile: "sub/Dockerfile",
			want:       []string{".dockerignore", "Dockerfile", "main.go", "secret.env", "sub/Dockerfile"},
		},
		{
			name:       "a <Dockerfile>.dockerignore wins over .dockerignore",
			ignore:     "*.go\n",
			extra:      map[string]string{"sub/Dockerfile.dockerignore": "*\n"},
			dockerfile: "sub/Dockerfile",
			want:       []string{"sub/Dockerfile", "sub/Dockerfile.dockerignore"},
		},
		{
			name:   "double-star patterns",
			ignore: "**/*.log\n**/Dockerfile\n",
			want: []string{".dockerignore", "Dockerfile", "docs/", "docs/guide.md", "logs/", "main.go",
				"node_modules/", "node_modules/x/", "secret.env", "sub/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, base)
			writeFiles(t, dir, tt.extra)
			if tt.ignore != "" {
				writeFiles(t, dir, map[string]string{".dockerignore": tt.ignore})
			}
			dockerfile := ""
			if tt.dockerfile != "" {
				dockerfile = filepath.Join(dir, tt.dockerfile)
			}
			bc, err := newBuildContext(dir, dockerfile)
			if err != nil {
				t.Fatalf("newBuildContext() = %v", err)
			}
			if got := tarNames(t, bc); !slices.Equal(got, tt.want) {
				t.Errorf("archive = %q\nwant      %q", got, tt.want)
			}
		})
	}
}

func TestContextArchiveDockerfileOutside(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	writeFiles(t, dir, map[string]string{"main.go": "package main\n"})
	writeFiles(t, other, map[string]string{"build.Dockerfile": "FROM scratch\n"})
	bc, err := newBuildContext(dir, filepath.Join(other, "build.Dockerfile"))
	if err != nil {
		t.Fatalf("newBuildContext() = %v", err)
	}
	if bc.name != outsideDockerfile {
		t.Errorf("name = %q, want %q", bc.name, outsideDockerfile)
	}
	want := []string{outsideDockerfile, "main.go"}
	if got := tarNames(t, bc); !slices.Equal(got, want) {
		t.Errorf("archive = %q, want %q", got, want)
	}
}

func TestContextMissing(t *testing.T) {
	_, err := newBuildContext(filepath.Join(t.TempDir(), "nope"), "")
	if err == nil || !strings.Contains(err.Error(), "nope") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("newBuildContext(missing) = %v, want a not-exist error naming the directory", err)
	}
}
