package chartlint

import (
	"path/filepath"
	"strings"
	"testing"
)

func values(names ...string) []Values {
	var out []Values
	for _, n := range names {
		out = append(out, Values{Name: "env/" + n + ".yaml", Path: filepath.Join("testdata", "values", n+".yaml")})
	}
	return out
}

func TestLint(t *testing.T) {
	tests := []struct {
		name   string
		values []Values
		want   []string
	}{
		{"good values", values("dev"), nil},
		{"missing required value is an error for that environment", values("dev", "production"),
			[]string{"env/production.yaml: error: missing required value: image.tag is required [HL1002]"}},
		{"template error names the template line and the values file", values("dev", "staging"),
			[]string{"charts/web/templates/deployment.yaml:15:42: error: template: web/templates/deployment.yaml:15:42: executing"}},
		{"unreadable values file", values("broken"),
			[]string{"env/broken.yaml:1: error: values file cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Lint(filepath.Join("testdata", "web"), "charts/web", Options{Values: tt.values, KubernetesVersion: "1.31.0"})
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, f := range got {
				lines = append(lines, f.String())
			}
			if len(lines) != len(tt.want) {
				t.Fatalf("Lint() = %d findings, want %d:\n%s", len(lines), len(tt.want), strings.Join(lines, "\n"))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("finding %d = %q, want prefix %q", i, lines[i], w)
				}
			}
			if tt.name == "template error names the template line and the values file" && !strings.HasSuffix(lines[0], "(with values env/staging.yaml) [HL1003]") {
				t.Errorf("finding does not name the values file: %q", lines[0])
			}
		})
	}
}

func TestBadKubernetesVersion(t *testing.T) {
	_, err := Lint(filepath.Join("testdata", "web"), "web", Options{KubernetesVersion: "one"})
	if err == nil || !strings.Contains(err.Error(), `"one"`) {
		t.Errorf("Lint(kubernetes version one) error = %v, want it to name the value", err)
	}
}

// TestFail: helm's lint mode logs a template's `fail` and goes on; gitship
// reports it as an error, with the message the chart's author wrote, on
// the template line helm template names: the fail's own, or that of the
// include of the partial that calls it.
func TestFail(t *testing.T) {
	guard := func(names ...string) []Values {
		var out []Values
		for _, n := range names {
			out = append(out, Values{Name: "env/" + n + ".yaml", Path: filepath.Join("testdata", "guardvalues", n+".yaml")})
		}
		return out
	}
	tests := []struct {
		name   string
		values []Values
		want   []string
	}{
		{"the chart's defaults fail in a partial", nil,
			[]string{"charts/guard/templates/configmap.yaml:6:11: error: tier must be web or worker, not <nil> [HL1003]"}},
		{"no fail", guard("dev"), nil},
		{"one environment fails in a template", guard("dev", "big"),
			[]string{"charts/guard/templates/deployment.yaml:2:4: error: replicas: at most 5 (with values env/big.yaml) [HL1003]"}},
		{"two fails in one environment", guard("both"), []string{
			"charts/guard/templates/configmap.yaml:6:11: error: tier must be web or worker, not batch [HL1003]",
			"charts/guard/templates/deployment.yaml:2:4: error: replicas: at most 5 [HL1003]",
		}},
		{"a message of two lines stays whole", guard("multiline"),
			[]string{"charts/guard/templates/configmap.yaml:6:11: error: tier must be web or worker, not line one\nline two [HL1003]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Lint(filepath.Join("testdata", "guard"), "charts/guard", Options{Values: tt.values, KubernetesVersion: "1.31.0"})
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, f := range got {
				lines = append(lines, f.String())
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Lint() =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
