package validation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gitship/gitship/shared/render"
)

// TestWarm: schemas compiled ahead by Warm are the ones validation uses,
// and the verdicts are those without Warm, also for a kind that a --crd
// file gives another schema (the warmed embedded one is then not used),
// for a kind named without its API version, and for kinds nothing renders.
func TestWarm(t *testing.T) {
	// A CRD claiming apps/v1 Deployment, whose schema wants replicas a
	// string: the embedded schema says the opposite.
	override := filepath.Join(t.TempDir(), "deployment-crd.yaml")
	if err := os.WriteFile(override, []byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: deployments.apps
spec:
  group: apps
  names: {kind: Deployment, plural: deployments}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                replicas: {type: string}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := resources(t,
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: text}\nspec: {replicas: three}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: number}\nspec: {replicas: 3, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata: {k: v}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {k: 1}\n",
		"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {maxReplicas: 2, scaleTargetRef: {kind: Deployment, name: number}, bogus: 1}\n",
	)
	named := []render.Kind{{APIVersion: "apps/v1", Kind: "Deployment"}, {APIVersion: "v1", Kind: "ConfigMap"}, {APIVersion: "", Kind: "HorizontalPodAutoscaler"}, {APIVersion: "batch/v1", Kind: "Job"}, {APIVersion: "v1", Kind: "NoSuchKind"}}
	versions := []string{"1.29.0", "v1.37.2"}
	verdicts := func(out Outcome) []string {
		var got []string
		for _, r := range out.Results {
			for _, c := range r.Checks {
				got = append(got, fmt.Sprintf("%s %s %s: %s %s %v", c.KubernetesVersion, r.Resource.Kind, r.Resource.Name, c.Status, c.Schema, c.Problems))
			}
		}
		return got
	}
	for _, tt := range []struct {
		name string
		crds []string
		// used: the warmed schemas validation finds compiled, by
		// version, API version and kind; the others are not used.
		used []string
	}{
		{"embedded schemas", nil, []string{"1.29.0 apps/v1 Deployment", "1.29.0 v1 ConfigMap", "1.29.0 autoscaling/v2 HorizontalPodAutoscaler",
			"1.37.2 apps/v1 Deployment", "1.37.2 v1 ConfigMap", "1.37.2 autoscaling/v2 HorizontalPodAutoscaler"}},
		{"Deployment given by a --crd", []string{override}, []string{"1.29.0 v1 ConfigMap", "1.29.0 autoscaling/v2 HorizontalPodAutoscaler",
			"1.37.2 v1 ConfigMap", "1.37.2 autoscaling/v2 HorizontalPodAutoscaler"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{KubernetesVersions: versions, Strict: true, CRDFiles: tt.crds}
			cold, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			want, err := cold.Check(context.Background(), rs)
			cold.Close()
			if err != nil {
				t.Fatal(err)
			}

			v, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			v.Warm(func() []render.Kind { return named })
			v.warming.Wait() // as if the render took longer than the warm-up
			warmed := map[string]*compiled{}
			for path, c := range v.schemas.warmed {
				warmed[path] = c
			}
			got, err := v.Check(context.Background(), rs)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := verdicts(got), verdicts(want); !reflect.DeepEqual(g, w) {
				t.Errorf("verdicts after Warm:\n%q\nwant, without Warm:\n%q", g, w)
			}
			// Deployment, ConfigMap, the two HPA versions and Job, each
			// for both versions.
			if len(warmed) != 10 {
				t.Errorf("Warm(%v) compiled %d schemas, want 10: %v", named, len(warmed), warmed)
			}
			used := map[string]bool{}
			for _, u := range tt.used {
				var k, api, kind string
				fmt.Sscan(u, &k, &api, &kind)
				used[v.store.path(k, api, kind)] = true
			}
			for path, c := range warmed {
				if got := v.schemas.compiled[path] == c; got != used[path] {
					t.Errorf("%s: validation used the warmed schema: %v, want %v", path, got, used[path])
				}
			}
		})
	}
}
