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
		{"missing resource", "testdata/kustomize/broken", false, "missing.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RenderKustomize(context.Background(), tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("RenderKustomize(%q) error = %v, want it to contain %q", tt.dir, err, tt.want)
			}
			if got := errors.Is(err, ErrInput); got != tt.input {
				t.Errorf("errors.Is(%v, ErrInput) = %v, want %v", err, got, tt.input)
			}
		})
	}
}
