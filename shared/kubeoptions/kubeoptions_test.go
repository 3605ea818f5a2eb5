package kubeoptions

import (
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/step"
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
			chart, k, err := r.One()
			if err != nil {
				t.Fatalf("One() = %v", err)
			}
			charts, kustomize = []string{chart}, []string{k}
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
		for _, f := range r.Flags() {
			if name := f.Names()[0]; name == "chart" || name == "kustomize" {
				if _, list := f.(*cli.StringSliceFlag); !list {
					t.Errorf("PerEnvironment %t: --%s is %T, want the same list flag in every step", perEnv, name, f)
				}
			}
		}
	}
}

// TestOne: a step that renders one app (gitops-pr) takes one --chart and
// one --kustomize; a second is a usage error (exit 2) naming the flag.
func TestOne(t *testing.T) {
	tests := []struct {
		args             []string
		chart, kustomize string
		err              string
	}{
		{args: nil},
		{args: []string{"--chart", "deploy/chart"}, chart: "deploy/chart"},
		{args: []string{"--chart=a,b"}, chart: "a,b"}, // one value: the command line does not split
		{args: []string{"--kustomize", "deploy/overlays/{environment}"}, kustomize: "deploy/overlays/{environment}"},
		{args: []string{"--chart", "a", "--chart", "b"}, err: `--chart given 2 times (["a" "b"]): this step renders one app, give one --chart`},
		{args: []string{"--chart", "a", "--kustomize", "k", "--kustomize", "k"}, err: `--kustomize given 2 times (["k" "k"])`},
	}
	for _, tt := range tests {
		r := &RenderFlags{PerEnvironment: true}
		app := &cli.App{Flags: r.Flags(), DisableSliceFlagSeparator: true, Action: func(*cli.Context) error { return nil }}
		if err := app.Run(append([]string{"test"}, tt.args...)); err != nil {
			t.Fatal(err)
		}
		chart, kustomize, err := r.One()
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) || step.ExitCode(err) != step.ExitUsage {
				t.Errorf("%q: One() = %v (exit %d), want a usage error with %q", tt.args, err, step.ExitCode(err), tt.err)
			}
		case err != nil || chart != tt.chart || kustomize != tt.kustomize:
			t.Errorf("%q: One() = %q, %q, %v; want %q, %q", tt.args, chart, kustomize, err, tt.chart, tt.kustomize)
		}
	}
}
