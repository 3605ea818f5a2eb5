package render

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRenderKustomize(t *testing.T) {
	tests := []struct {
		name, dir, stream string
		want              []string
	}{
		{"base", "testdata/kustomize/base", "kustomize testdata/kustomize/base", []string{
			"testdata/kustomize/base/kustomization.yaml:0 Service /web",
			"testdata/kustomize/base/kustomization.yaml:0 Deployment /web",
		}},
		{"overlay, in kustomize build's order", "testdata/kustomize/overlays/dev/", "kustomize testdata/kustomize/overlays/dev", []string{
			"testdata/kustomize/overlays/dev/kustomization.yaml:0 ConfigMap dev/dev-web-config-47668c6k28",
			"testdata/kustomize/overlays/dev/kustomization.yaml:0 Service dev/dev-web",
			"testdata/kustomize/overlays/dev/kustomization.yaml:0 Deployment dev/dev-web",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderKustomize(context.Background(), tt.dir)
			if err != nil {
				t.Fatalf("RenderKustomize(%q) error = %v", tt.dir, err)
			}
			var lines []string
			for i, r := range got {
				lines = append(lines, origin(r))
				if r.Stream != tt.stream || r.Index != i {
					t.Errorf("resource %d: Stream, Index = %q, %d; want %q, %d", i, r.Stream, r.Index, tt.stream, i)
				}
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("RenderKustomize(%q) =\n%s\nwant\n%s", tt.dir, strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestRenderKustomizeErrors(t *testing.T) {
	tests := []struct {
		name, dir string
		input     bool
		want      string
	}{
		{"missing directory", "testdata/nope", true, `kustomization directory "testdata/nope" does not exist`},
		{"a file", "testdata/kustomize/base/kustomization.yaml", true, "is not a directory"},
		{"no kustomization", "testdata/kustomize", true, `"testdata/kustomize" has no kustomization.yaml`},
		// kustomize's own message, at the entry it is about.
		{"missing resource", "testdata/kustomize/broken", false,
			`kustomize "testdata/kustomize/broken": testdata/kustomize/broken/kustomization.yaml:2:5: accumulating resources: accumulation err='accumulating resources from 'missing.yaml'`},
		{"missing resource in a base", "testdata/kustomize/invalid/brokenbase", false,
			`kustomize "testdata/kustomize/invalid/brokenbase": testdata/kustomize/broken/kustomization.yaml:2:5: accumulating resources:`},
		{"patch matching nothing", "testdata/kustomize/invalid/patchtarget", false,
			`testdata/kustomize/invalid/patchtarget/kustomization.yaml:4:11: no resource matches strategic merge patch "Deployment.v1.apps/wbe.[noNs]"`},
		// Refused before kustomize runs git or opens a connection.
		{"remote resource", "testdata/kustomize/invalid/remote", false,
			`testdata/kustomize/invalid/remote/kustomization.yaml:4:5: https://github.com/kubernetes-sigs/kustomize//examples/helloWorld/?timeout=120: remote resource: gitship builds offline and fetches nothing; vendor it into the repository`},
		{"remote base", "testdata/kustomize/invalid/remotebase", false,
			`testdata/kustomize/invalid/remotebase/kustomization.yaml:2:5: github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v3.3.1: remote base: gitship builds offline`},
		// kustomize says "unable to find one of 'kustomization.yaml'..." for
		// a kustomization file it cannot read; the file and its problem are
		// what to fix.
		{"invalid YAML", "testdata/kustomize/invalid/syntax", false,
			"testdata/kustomize/invalid/syntax/kustomization.yaml:4:1: invalid YAML: did not find expected '-' indicator"},
		{"invalid YAML in a base", "testdata/kustomize/invalid/overlay", false,
			`kustomize "testdata/kustomize/invalid/overlay": testdata/kustomize/invalid/syntax/kustomization.yaml:4:1: invalid YAML`},
		{"tab", "testdata/kustomize/invalid/tab", false,
			"testdata/kustomize/invalid/tab/kustomization.yaml:2:1: tab in indentation"},
		{"unknown field", "testdata/kustomize/invalid/field", false,
			`testdata/kustomize/invalid/field/kustomization.yaml:1:1: invalid Kustomization: json: unknown field "resourcez"`},
		{"field of the wrong type", "testdata/kustomize/invalid/type", false,
			`testdata/kustomize/invalid/type/kustomization.yaml:4:5: invalid Kustomization: json: cannot unmarshal number into Go struct field Image.images.newTag of type string`},
		{"alias bomb", "testdata/kustomize/invalid/bomb", false,
			"testdata/kustomize/invalid/bomb/kustomization.yaml:1: excessive aliasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RenderKustomize(context.Background(), tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("RenderKustomize(%q) error = %v, want it to contain %q", tt.dir, err, tt.want)
			}
			if strings.Contains(err.Error(), "unable to find") {
				t.Errorf("RenderKustomize(%q) error = %v, want the problem of the file it found", tt.dir, err)
			}
			if got := errors.Is(err, ErrInput); got != tt.input {
				t.Errorf("errors.Is(%v, ErrInput) = %v, want %v", err, got, tt.input)
			}
		})
	}
}

func TestIsRemote(t *testing.T) {
	for entry, want := range map[string]bool{
		"github.com/org/repo/deploy?ref=v1":       true,
		"github.com/org/repo//deploy":             true,
		"https://github.com/org/repo.git//deploy": true,
		"https://example.com/manifests/all.yaml":  true,
		"git@github.com:org/repo.git":             true,
		"gitlab.example.co/team/app":              true,
		"../base":                                 false,
		"deployment.yaml":                         false,
		"config.yaml/nested.yaml":                 false,
		"sub/dir":                                 false,
		"conf.d/x.yaml":                           false,
	} {
		if got := isRemote(entry); got != want {
			t.Errorf("isRemote(%q) = %v, want %v", entry, got, want)
		}
	}
}
