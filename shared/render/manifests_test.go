package render

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestReadManifests(t *testing.T) {
	multi := []string{
		"testdata/manifests/multi.yaml:3 manifests testdata/manifests/multi.yaml#0 Namespace /demo",
		"testdata/manifests/multi.yaml:8 manifests testdata/manifests/multi.yaml#1 ConfigMap demo/demo",
		"testdata/manifests/multi.yaml:19 manifests testdata/manifests/multi.yaml#2 ConfigMap other/demo",
	}
	list := []string{
		"testdata/manifests/list.yaml:4 manifests testdata/manifests/list.yaml#0 Secret /token",
		"testdata/manifests/list.yaml:12 manifests testdata/manifests/list.yaml#1 ServiceAccount /demo",
		"testdata/manifests/list.yaml:22 manifests testdata/manifests/list.yaml#2 ConfigMap /listed",
	}
	nested := []string{
		"testdata/manifests/nested/deploy.yml:1 manifests testdata/manifests/nested/deploy.yml#0 Deployment demo/demo",
		"testdata/manifests/nested/svc.json:1 manifests testdata/manifests/nested/svc.json#0 Service demo/demo",
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	stdin := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: piped\n"
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"a file", []string{"testdata/manifests/multi.yaml"}, multi},
		{"a directory, recursively, in lexical order, skipping hidden directories and other files",
			[]string{"testdata/manifests"}, cat(list, multi, nested)},
		{"a glob", []string{"testdata/manifests/*"}, cat(list, multi, nested)},
		{"a glob matching files", []string{"testdata/manifests/nested/*"}, nested},
		{"a file named twice is read once", []string{"testdata/manifests/multi.yaml", "testdata/manifests", "./testdata/manifests/multi.yaml"},
			cat(multi, list, nested)},
		{"stdin", []string{"-", "testdata/manifests/nested/deploy.yml"},
			cat([]string{"stdin:1 stdin#0 ConfigMap /piped"}, nested[:1])},
		{"no paths", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadManifests(tt.paths, strings.NewReader(stdin))
			if err != nil {
				t.Fatalf("ReadManifests(%q) error = %v", tt.paths, err)
			}
			var lines []string
			for _, r := range got {
				lines = append(lines, r.Source+":"+strconv.Itoa(r.Line)+" "+r.Stream+"#"+strconv.Itoa(r.Index)+" "+r.Kind+" "+r.Namespace+"/"+r.Name)
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("ReadManifests(%q) =\n%s\nwant\n%s", tt.paths, strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestReadManifestsErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, MaxFileSize+1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		paths []string
		stdin io.Reader
		input bool // wraps ErrInput
		want  string
	}{
		{"missing file", []string{"testdata/nope.yaml"}, nil, true, `manifest "testdata/nope.yaml" does not exist`},
		{"glob matching nothing", []string{"testdata/*.nope"}, nil, true, `"testdata/*.nope" matches no manifest (*.yaml, *.yml, *.json)`},
		{"bad glob", []string{"testdata/[.yaml"}, nil, true, `glob "testdata/[.yaml": syntax error in pattern`},
		{"directory without manifests", []string{empty}, nil, true, "matches no manifest"},
		{"file too large", []string{huge}, nil, true, "huge.yaml\" is larger than the 64 MiB limit"},
		{"stdin too large", []string{"-"}, io.LimitReader(zeros{}, MaxFileSize+1), true, "stdin is larger than the 64 MiB limit"},
		{"no stdin", []string{"-"}, nil, true, `"-" given but there is no stdin`},
		{"an explicit file is read whatever its extension", []string{"testdata/manifests/nested/README.md"}, nil, false,
			"testdata/manifests/nested/README.md:1: document has no kind"},
		{"document without kind", []string{"testdata/bad/nokind.yaml"}, nil, false, "testdata/bad/nokind.yaml:7: document has no kind"},
		{"document without apiVersion", []string{"testdata/bad/noapiversion.yaml"}, nil, false, "testdata/bad/noapiversion.yaml:1: document has no apiVersion"},
		{"not an object", []string{"testdata/bad/notobject.yaml"}, nil, false, "testdata/bad/notobject.yaml:1: document is not an object"},
		{"malformed header", []string{"-"}, strings.NewReader("apiVersion: v1\nkind: [ConfigMap\n"), false, "did not find expected ',' or ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadManifests(tt.paths, tt.stdin)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadManifests(%q) error = %v, want it to contain %q", tt.paths, err, tt.want)
			}
			if got := errors.Is(err, ErrInput); got != tt.input {
				t.Errorf("errors.Is(%v, ErrInput) = %v, want %v", err, got, tt.input)
			}
		})
	}
}

// A document whose header reads plainly is handed on unparsed: its body's
// syntax is the validator's to report, with the document's line.
func TestReadManifestsLeavesBodySyntaxToValidator(t *testing.T) {
	rs, err := ReadManifests([]string{"testdata/bad/malformed.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Kind != "ConfigMap" || rs[0].Name != "broken" || rs[0].Line != 1 {
		t.Errorf("got %+v", rs)
	}
	// Split, used on rendered output, still parses everything.
	data, _ := os.ReadFile("testdata/bad/malformed.yaml")
	if _, err := Split("s", "malformed.yaml", data); err == nil || !strings.Contains(err.Error(), "malformed.yaml:5: mapping values are not allowed") {
		t.Errorf("Split error = %v", err)
	}
}

func TestQuickHeader(t *testing.T) {
	for _, tt := range []struct {
		doc                 string
		api, kind, name, ns string
		ok                  bool
	}{
		{"apiVersion: apps/v1\nkind: Deployment # the app\nmetadata:\n  name: 'web'\n  labels:\n    name: other\n  namespace: \"prod\"\nspec: {}\n", "apps/v1", "Deployment", "web", "prod", true},
		{"# c\nkind: ConfigMap\napiVersion: v1\nmetadata:\n    name: x\ndata:\n  name: y\n", "v1", "ConfigMap", "x", "", true},
		{"apiVersion: v1\nkind: List\nitems: []\n", "", "", "", "", false},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "", "", "", "", false},
		{"{\"apiVersion\": \"v1\"}\n", "", "", "", "", false},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: &n x\n", "", "", "", "", false},
		{"apiVersion: v1\nkind: ConfigMap\nkind: Secret\n", "", "", "", "", false},
		{"apiVersion: v1\nkind: \"Con\\u0066igMap\"\n", "", "", "", "", false},
		{"apiVersion: v1\nkind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n", "", "", "", "", false},
		{"apiVersion: v1\nmetadata:\n  name: x\n", "", "", "", "", false},
	} {
		api, kind, name, ns, ok := quickHeader([]byte(tt.doc))
		if ok != tt.ok || api != tt.api || kind != tt.kind || name != tt.name || ns != tt.ns {
			t.Errorf("quickHeader(%q) = %q %q %q %q %v, want %q %q %q %q %v", tt.doc, api, kind, name, ns, ok, tt.api, tt.kind, tt.name, tt.ns, tt.ok)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// readFile sizes its buffer from the open file's size: every size around
// the buffer's edges reads whole, and a reader holding more or less than
// the size given (a file that grew or shrank after the stat, /proc files
// that say 0) still reads to its end, capped at MaxFileSize.
func TestReadFileSizes(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4095, 4096, 4097, 1400, 64<<10 + 3} {
		want := strings.Repeat("k: v\n", n/5+1)[:n]
		name := filepath.Join(dir, strconv.Itoa(n)+".yaml")
		if err := os.WriteFile(name, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readFile(name)
		if err != nil || string(got) != want {
			t.Errorf("readFile(%d bytes) = %d bytes, %v; want the %d bytes written", n, len(got), err, n)
		}
	}
	if _, err := readFile(dir); err == nil || !strings.Contains(err.Error(), "is a directory") || !errors.Is(err, ErrInput) {
		t.Errorf("readFile(a directory) error = %v, want an input error saying it is a directory", err)
	}
	content := strings.Repeat("x", 3000)
	for _, size := range []int64{0, 10, 2999, 3000, 3001, 1 << 20} {
		got, err := readSized(strings.NewReader(content), "manifest", size)
		if err != nil || string(got) != content {
			t.Errorf("readSized(3000 bytes, size %d) = %d bytes, %v; want 3000 bytes", size, len(got), err)
		}
	}
	if _, err := readSized(io.LimitReader(zeros{}, MaxFileSize+1), `manifest "grown.yaml"`, 10); err == nil ||
		!strings.Contains(err.Error(), `manifest "grown.yaml" is larger than the 64 MiB limit`) || !errors.Is(err, ErrInput) {
		t.Errorf("readSized(64 MiB + 1 given as 10 bytes) error = %v, want the limit", err)
	}
	if got, err := readSized(io.LimitReader(zeros{}, MaxFileSize), "manifest", 0); err != nil || len(got) != MaxFileSize {
		t.Errorf("readSized(64 MiB exactly) = %d bytes, %v; want all of it", len(got), err)
	}
}
