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

// TestIgnoreFileErrors: an ignore file that is not a list of patterns is
// refused before anything is sent, naming the file and line; the engine
// would refuse a bad pattern only after the whole context arrived.
func TestIgnoreFileErrors(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                string // "" for none
	}{
		{"patterns", ".dockerignore", "\xef\xbb\xbf# comment\n*.log\n!keep.log\n/abs\n\n", ""},
		{"CRLF", ".dockerignore", "*.log\r\nbuild\r\n", ""},
		{"bracket left open", ".dockerignore", "*.log\n[\n", `.dockerignore:2: pattern "[": syntax error in pattern`},
		{"bad range in a directory", ".dockerignore", "ok\nsrc/[z-a]\n", `.dockerignore:2: pattern "src/[z-a]": syntax error in pattern`},
		{"exclusion of nothing", ".dockerignore", "*\n!\n", `.dockerignore:2: pattern "!": illegal exclusion pattern: "!"`},
		{"bad exclusion", ".dockerignore", "*\n![\n", `.dockerignore:2: pattern "![": syntax error in pattern`},
		{"NUL bytes", ".dockerignore", "a\nb\x00c\n", ".dockerignore:2: NUL byte: a binary file, not a list of patterns"},
		{"UTF-16", ".dockerignore", "\xff\xfe*\x00\n\x00", ".dockerignore:1: NUL byte: a binary file, not a list of patterns"},
		{"latin-1", ".dockerignore", "ok\ncaf\xe9\n", ".dockerignore:2: invalid UTF-8: a binary file, not a list of patterns"},
		{"a line too long", ".dockerignore", strings.Repeat("a", 70<<10) + "\n", ".dockerignore:1: bufio.Scanner: token too long"},
		{"next to the Dockerfile", "Dockerfile.dockerignore", "[\n", `Dockerfile.dockerignore:1: pattern "[": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			writeFiles(t, dir, map[string]string{"Dockerfile": "FROM scratch\n", tt.file: tt.content})
			err := Check(BuildOptions{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			var ie *IgnoreFileError
			if !errors.As(err, &ie) || !errors.Is(err, ErrBadContext) || err.Error() != tt.want {
				t.Errorf("Check() = %v, want an *IgnoreFileError %q", err, tt.want)
			}
		})
	}
}

// TestCheck: what Build would refuse, found without an engine.
func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		o     BuildOptions
		is    error
		want  string
	}{
		{"fine", map[string]string{"Dockerfile": "FROM scratch AS a\n"}, BuildOptions{Target: "a"}, nil, ""},
		{"missing context", nil, BuildOptions{ContextDir: "nope"}, ErrBadContext, `build context "nope": stat `},
		{"context is a file", map[string]string{"f": ""}, BuildOptions{ContextDir: "f"}, ErrBadContext, `build context "f": not a directory`},
		{"no Dockerfile", map[string]string{"a": ""}, BuildOptions{}, ErrDockerfileNotFound, "Dockerfile not found: Dockerfile"},
		{"syntax", map[string]string{"Dockerfile": "FROM scratch\nCOPY\n"}, BuildOptions{}, ErrSyntax,
			"parse Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"},
		{"no instructions", map[string]string{"Dockerfile": "# nothing\n"}, BuildOptions{}, ErrSyntax, "parse Dockerfile:1: file with no instructions"},
		{"unknown target", map[string]string{"Dockerfile": "FROM scratch AS a\n"}, BuildOptions{Target: "b"}, ErrUnknownTarget, `target stage "b" is not in Dockerfile`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			writeFiles(t, dir, tt.files)
			err := Check(tt.o)
			if tt.is == nil {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.is) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Check() = %v, want %v starting %q", err, tt.is, tt.want)
			}
		})
	}
}
