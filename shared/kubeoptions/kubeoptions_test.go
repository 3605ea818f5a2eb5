package kubeoptions

import (
	"flag"
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestFlags parses one command line through each kind of step: the same
// flags, repeatable or single --chart and --kustomize, the same defaults,
// resolved into the same validation options.
func TestFlags(t *testing.T) {
	args := []string{"--chart", "deploy/chart", "--values", "a.yaml", "--values", "b.yaml", "--set", "x=1",
		"--kustomize", "deploy/overlays/dev", "--crd", "crds", "--kubernetes-version", "v1.34.0,1.37.0", "--missing-schemas", "warn"}
	for _, perEnv := range []bool{false, true} {
		r := &RenderFlags{PerEnvironment: perEnv}
		v := &ValidationFlags{}
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		for _, f := range append(r.Flags(), v.Flags()...) {
			if err := f.Apply(fs); err != nil {
				t.Fatal(err)
			}
		}
		if err := fs.Parse(args); err != nil {
			t.Fatalf("PerEnvironment %t: %v", perEnv, err)
		}
		charts, kustomize := r.Charts.Value(), r.Kustomizations.Value()
		if perEnv {
			charts, kustomize = []string{r.Chart}, []string{r.Kustomize}
		}
		if !reflect.DeepEqual(charts, []string{"deploy/chart"}) || !reflect.DeepEqual(kustomize, []string{"deploy/overlays/dev"}) ||
			!reflect.DeepEqual(r.Values.Value(), []string{"a.yaml", "b.yaml"}) || r.Namespace != "default" {
			t.Errorf("PerEnvironment %t: charts %q, kustomize %q, values %q, namespace %q", perEnv, charts, kustomize, r.Values.Value(), r.Namespace)
		}
		o := v.Options()
		if !reflect.DeepEqual(o.KubernetesVersions, []string{"1.34.0", "1.37.0"}) || !o.Strict || o.MissingSchemas != "warn" ||
			!reflect.DeepEqual(o.CRDFiles, []string{"crds"}) {
			t.Errorf("PerEnvironment %t: options %+v", perEnv, o)
		}
		_, single := r.Flags()[0].(*cli.StringFlag)
		if single != perEnv {
			t.Errorf("PerEnvironment %t: --chart is %T", perEnv, r.Flags()[0])
		}
	}
}
