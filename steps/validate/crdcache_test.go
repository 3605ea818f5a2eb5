package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/steptest"
)

// --crd converts a CRD only when a resource of its kind is met, and, with
// --schema-cache, keeps what it converted by the CRD's content for the
// next run; without --schema-cache nothing is written outside the
// workspace.
func TestCRDConversion(t *testing.T) {
	verdict := []string{
		"3 resources: 2 valid, 1 invalid",
		"crontabs.yaml:23:3: error: CronTab bad: spec.cronSpec: wrong type: got number, want string [VL1001]",
		"crontabs.yaml:22:1: error: CronTab bad: spec.image: required field is missing [VL1001]",
	}
	check := func(t *testing.T, res steptest.Result) {
		t.Helper()
		if res.Code != 1 {
			t.Fatalf("exit code = %d, want 1\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
		for _, want := range verdict {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
			}
		}
	}
	// A CRD no resource uses is not converted, so one that could not be
	// is not an error; one a resource uses and that cannot be converted
	// is bad --crd input, exit 2.
	gizmo := "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.example.com\nspec:\n  group: example.com\n  names:\n    kind: Gizmo\n    plural: gizmos\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n"

	t.Run("unused CRDs are not converted", func(t *testing.T) {
		ws := steptest.Workspace(t, filepath.Join("testdata", "crd"))
		writeFile(t, ws, "crds/gizmo.yaml", gizmo)
		data, _ := os.ReadFile(filepath.Join(ws, "crontab-crd.yaml"))
		writeFile(t, ws, "crds/crontab.yaml", string(data))
		res := run(t, ws, nil, "--manifests", "crontabs.yaml", "--crd", "crds")
		check(t, res)
		if !strings.Contains(res.Stdout, "--crd: 2 CustomResourceDefinitions from 1 files") {
			t.Errorf("stdout lacks the CRD count:\n%s", res.Stdout)
		}
		writeFile(t, ws, "gizmo.yaml", "apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\n")
		res = run(t, ws, nil, "--manifests", "gizmo.yaml", "--crd", "crds")
		if res.Code != 2 || !strings.Contains(res.Stderr, `--crd: crds/gizmo.yaml: CustomResourceDefinition "gizmos.example.com": version "v1": no openAPIV3Schema`) {
			t.Errorf("a used CRD without a schema: exit code = %d, want 2\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
	})

	t.Run("cache", func(t *testing.T) {
		ws := steptest.Workspace(t, filepath.Join("testdata", "crd"))
		cache := t.TempDir()
		args := []string{"--manifests", "crontabs.yaml", "--crd", "crontab-crd.yaml", "--schema-cache", cache}
		check(t, run(t, ws, nil, args...))
		entries, _ := filepath.Glob(filepath.Join(cache, "crd", "*-strict-*.json"))
		if len(entries) != 1 {
			t.Fatalf("cache holds %q, want the CRD's schemas", entries)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(entries[0], old, old); err != nil {
			t.Fatal(err)
		}
		check(t, run(t, ws, nil, args...))
		if fi, err := os.Stat(entries[0]); err != nil || !fi.ModTime().Equal(old) {
			t.Errorf("the second run converted the CRD again (the cache entry was rewritten)")
		}
		// A damaged entry is converted again, and replaced.
		if err := os.WriteFile(entries[0], []byte(`[{"Group":"x"`), 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, run(t, ws, nil, args...))
		if b, _ := os.ReadFile(entries[0]); !strings.Contains(string(b), `"Kind":"CronTab"`) {
			t.Errorf("the damaged entry was not replaced: %.200s", b)
		}
	})

	t.Run("no cache unless asked", func(t *testing.T) {
		ws := steptest.Workspace(t, filepath.Join("testdata", "crd"))
		home := t.TempDir()
		check(t, run(t, ws, map[string]string{"HOME": home, "XDG_CACHE_HOME": filepath.Join(home, ".cache")},
			"--manifests", "crontabs.yaml", "--crd", "crontab-crd.yaml"))
		if entries, _ := os.ReadDir(home); len(entries) > 0 {
			t.Errorf("wrote %v under $HOME without --schema-cache", entries)
		}
	})
}
