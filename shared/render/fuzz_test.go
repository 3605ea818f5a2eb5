package render

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// FuzzSplit checks that no input panics the splitter, and that what it
// returns holds what Resource promises.
func FuzzSplit(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\ufeff---\r\napiVersion: v1\r\nkind: List\r\nitems:\r\n- {apiVersion: v1, kind: A}\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Split("fuzz", "f.yaml", data)
		if err != nil {
			return
		}
		for i, r := range rs {
			if r.Kind == "" || r.APIVersion == "" || r.Index != i || r.Line < 0 || len(r.Data) == 0 {
				t.Fatalf("resource %d = %+v", i, r)
			}
		}
	})
}

// FuzzValues feeds arbitrary bytes to a chart as its values file, the way
// validate and gitops-pr read --values: it must not panic, a values file
// that is not YAML is an error that names it, and what renders is made of
// resources.
func FuzzValues(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "values", "*.yaml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("replicaCount: 3\nimage: {tag: \"1.0\"}\nconfigs: [a, b, c]\n"))
	f.Add([]byte("image: [\n"))
	f.Add([]byte("subchart: {enabled: false}\n---\nextra: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		values := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(values, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rs, err := RenderChart(context.Background(), Chart{Dir: filepath.Join("testdata", "chart"), Values: []string{values}})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			// Parsed as mergeValues parses it.
			if m := map[string]any{}; yaml.Unmarshal(data, &m) != nil && !strings.Contains(err.Error(), values) {
				t.Fatalf("a values file that does not parse: error %q does not name it", err)
			}
			return
		}
		for i, r := range rs {
			if r.Kind == "" || r.APIVersion == "" || len(r.Data) == 0 {
				t.Fatalf("resource %d = %+v", i, r)
			}
		}
	})
}

// FuzzKustomization feeds arbitrary bytes to the check every kustomization
// file passes before kustomize parses it: it must not panic, and a refusal
// names the file, which kustomize's own errors do not.
func FuzzKustomization(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "kustomize", "*", "kustomization.yaml"))
	more, _ := filepath.Glob(filepath.Join("testdata", "kustomize", "*", "*", "kustomization.yaml"))
	for _, s := range append(seeds, more...) {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\nimages:\n- name: app\n  digest: sha256:0\n"))
	const name = "overlays/dev/kustomization.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		err := refuse(name, data)
		if err != nil && !strings.HasPrefix(err.Error(), name) {
			t.Fatalf("refuse() = %q, want it to start with the file", err)
		}
		if err == nil {
			var k types.Kustomization
			if uerr := k.Unmarshal(data); uerr != nil {
				t.Fatalf("refuse() accepted what kustomize refuses: %v", uerr)
			}
		}
	})
}
