package render

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestYAMLBombs feeds a billion-laughs document to every reader of YAML we
// rely on: our splitter (manifests, stdin), our check of values files and
// kustomize inputs (kyaml alone would hang) and rendered templates, and
// Helm's parse of a chart's values.yaml (go-yaml v2 under sigs.k8s.io/yaml,
// whose alias limit this pins).
func TestYAMLBombs(t *testing.T) {
	tests := []struct {
		name   string
		render func() error
		want   string
	}{
		{"manifest", func() error {
			_, err := ReadManifests([]string{"testdata/bad/bomb.yaml"}, nil)
			return err
		}, "testdata/bad/bomb.yaml:1: excessive aliasing"},
		{"stdin", func() error {
			_, err := ReadManifests([]string{"-"}, strings.NewReader(bomb(12, 10)))
			return err
		}, "stdin:1: excessive aliasing"},
		{"values file", func() error {
			_, err := RenderChart(context.Background(), Chart{Dir: "testdata/chart", Values: []string{"testdata/values/bomb.yaml"}})
			return err
		}, "testdata/values/bomb.yaml:1: excessive aliasing"},
		{"chart's values.yaml", func() error {
			_, err := RenderChart(context.Background(), Chart{Dir: "testdata/charts/valuesbomb"})
			return err
		}, "values.yaml: error converting YAML to JSON: yaml: document contains excessive aliasing"},
		{"chart template", func() error {
			_, err := RenderChart(context.Background(), Chart{Dir: "testdata/charts/bomb"})
			return err
		}, "bomb/templates/configmap.yaml: excessive aliasing"},
		{"kustomize resource", func() error {
			_, err := RenderKustomize(context.Background(), "testdata/kustomize/bomb")
			return err
		}, "excessive aliasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := tt.render()
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if errors.Is(err, ErrInput) {
				t.Errorf("error is ErrInput, want a failed check: %v", err)
			}
			if elapsed > 2*time.Second {
				t.Errorf("took %v, want under 2s", elapsed)
			}
			// Everything allocated, an upper bound on the peak.
			if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 50 {
				t.Errorf("allocated %d MiB, want under 50", mb)
			}
		})
	}
}
