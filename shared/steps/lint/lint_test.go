package lint

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitship/gitship/shared/chartlint"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRulesDocUpToDate(t *testing.T) {
	path := filepath.Join("..", "..", "..", "docs", "rules.md")
	got := RulesMarkdown()
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Errorf("docs/rules.md is out of date: run go test ./shared/steps/lint -update")
	}
}

func TestRuleIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range allRules() {
		if seen[r.ID] {
			t.Errorf("rule %s declared twice", r.ID)
		}
		seen[r.ID] = true
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	write("Dockerfile", "FROM scratch\n")
	write("svc/api.Dockerfile", "FROM scratch\n")
	write("svc/Dockerfile.test", "FROM scratch\n")
	write("svc/Containerfile", "FROM scratch\n")
	write("svc/Containerfile.prod", "FROM scratch\n")
	write("svc/worker.containerfile", "FROM scratch\n")
	write("chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0\n")
	write("chart/values.yaml", "a: 1\n")
	write("chart/templates/cm.yaml", "{{ .Values.a }}: x\n")
	write("chart/charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n")
	write("chart/charts/sub/templates/x.yaml", "{{ . }}\n")
	write("k8s/app.yml", "a: 1\n")
	write("vendor/x/Dockerfile", "FROM scratch\n")
	write(".git/config.yaml", "a: 1\n")
	write("generated/skip.yaml", "a: 1\n")
	write("README.md", "# not linted\n")

	tests := []struct {
		name                      string
		paths, exclude            []string
		dockerfiles, charts, yaml []string
	}{
		{"whole tree", []string{root}, []string{"generated"},
			[]string{"Dockerfile", "svc/Containerfile", "svc/Containerfile.prod", "svc/Dockerfile.test", "svc/api.Dockerfile", "svc/worker.containerfile"},
			[]string{"chart"},
			[]string{"chart/Chart.yaml", "chart/charts/sub/Chart.yaml", "chart/values.yaml", "k8s/app.yml"}},
		{"explicit files", []string{filepath.Join(root, "svc/api.Dockerfile"), filepath.Join(root, "svc/Containerfile.prod"), filepath.Join(root, "chart/Chart.yaml"), filepath.Join(root, "generated/skip.yaml")}, nil,
			[]string{"svc/Containerfile.prod", "svc/api.Dockerfile"}, []string{"chart"}, []string{"generated/skip.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discover(root, tt.paths, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			rels := func(fs []file) []string {
				var out []string
				for _, f := range fs {
					out = append(out, f.rel)
				}
				slices.Sort(out)
				return out
			}
			if g := rels(got.dockerfiles); !slices.Equal(g, tt.dockerfiles) {
				t.Errorf("dockerfiles = %q, want %q", g, tt.dockerfiles)
			}
			if g := rels(got.charts); !slices.Equal(g, tt.charts) {
				t.Errorf("charts = %q, want %q", g, tt.charts)
			}
			if g := rels(got.yaml); !slices.Equal(g, tt.yaml) {
				t.Errorf("yaml = %q, want %q", g, tt.yaml)
			}
		})
	}
}

func TestValuesFor(t *testing.T) {
	a := file{abs: "/r/charts/a", rel: "charts/a"}
	b := file{abs: "/r/charts/b", rel: "charts/b"}
	values := []chartlint.Values{
		{Name: "env/dev.yaml", Path: "/r/env/dev.yaml"},
		{Name: "charts/a/ci/prod.yaml", Path: "/r/charts/a/ci/prod.yaml"},
	}
	names := func(vs []chartlint.Values) (out []string) {
		for _, v := range vs {
			out = append(out, v.Name)
		}
		return out
	}
	if got := names(valuesFor(a, []file{a, b}, values)); !slices.Equal(got, []string{"env/dev.yaml", "charts/a/ci/prod.yaml"}) {
		t.Errorf("values for a = %q", got)
	}
	if got := names(valuesFor(b, []file{a, b}, values)); !slices.Equal(got, []string{"env/dev.yaml"}) {
		t.Errorf("values for b = %q, want only the shared file", got)
	}
}
