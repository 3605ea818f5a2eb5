package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gitship/gitship/internal/depchecktest"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// origin is what TestRenderChart compares: "source:line Kind ns/name [hook]".
func origin(r Resource) string {
	s := r.Source + ":" + strconv.Itoa(r.Line) + " " + r.Kind + " " + r.Namespace + "/" + r.Name
	if r.Hook != "" {
		s += " [" + r.Hook + "]"
	}
	return s
}

func TestRenderChart(t *testing.T) {
	const tpl = "testdata/chart/templates/"
	all := []string{
		"testdata/chart/crds/crds.yaml:3 CustomResourceDefinition /widgets.example.com",
		"testdata/chart/crds/crds.yaml:18 CustomResourceDefinition /gadgets.example.com",
		"testdata/chart/charts/subchart/templates/configmap.yaml:0 ConfigMap /release-name-other",
		"testdata/chart/charts/subchart/templates/configmap.yaml:0 ConfigMap /release-name-sub",
		tpl + "configmaps.yaml:0 ConfigMap /release-name-alpha",
		tpl + "configmaps.yaml:0 ConfigMap /release-name-beta",
		tpl + "deployment.yaml:0 Deployment /release-name",
		tpl + "list.yaml:0 ServiceAccount /release-name",
		tpl + "list.yaml:0 Role /release-name",
		tpl + "migrate-job.yaml:0 Job /release-name-migrate [pre-install,pre-upgrade]",
		tpl + "service.yaml:0 Service default/release-name",
		tpl + "tests/test-connection.yaml:0 Pod /release-name-test [test]",
		tpl + "widget.yaml:0 Widget /release-name",
	}
	noTests := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return strings.HasSuffix(s, " [test]") })
	dev := []string{"testdata/values/dev.yaml"}
	tests := []struct {
		name   string
		chart  Chart
		stream string
		want   []string          // origins; nil: do not compare
		data   map[string]string // "Kind/name" → text its Data contains
	}{
		{"CRDs, then templates by name, hooks among them; no NOTES.txt",
			Chart{Dir: "testdata/chart", Values: dev, KubeVersion: "1.31.0"},
			"chart testdata/chart (values dev.yaml)", all,
			map[string]string{"Widget/release-name": `kubeVersion: "v1.31.0"`, "Deployment/release-name": "image: registry.example.com/app:dev"}},
		{"SkipTests drops test hooks, keeps the others",
			Chart{Dir: "./testdata/chart/", SkipTests: true},
			"chart testdata/chart", noTests, nil},
		{"later values files and --set override earlier ones",
			Chart{Dir: "testdata/chart", Values: []string{"testdata/values/dev.yaml", "testdata/values/override.yaml"}, Set: []string{"replicaCount=5"}},
			"chart testdata/chart (values dev.yaml, override.yaml; --set)", nil,
			map[string]string{"Deployment/release-name": "replicas: 5\n", "Job/release-name-migrate": "app:override\n"}},
		{"--set after files", Chart{Dir: "testdata/chart", Values: dev, Set: []string{"image.tag=set,service.port=8080"}},
			"chart testdata/chart (values dev.yaml; --set)", nil,
			map[string]string{"Deployment/release-name": "app:set\n", "Service/release-name": "port: 8080\n"}},
		{"release name and namespace", Chart{Dir: "testdata/chart", ReleaseName: "web", Namespace: "prod"},
			"chart testdata/chart", nil,
			map[string]string{"Service/web": "namespace: prod\n", "ConfigMap/web-sub": "name: web-sub\n"}},
		{"the example app",
			Chart{Dir: "../../examples/app/deploy/chart", Values: []string{"../../examples/app/deploy/values/dev.yaml"}, ReleaseName: "hello"},
			"chart ../../examples/app/deploy/chart (values dev.yaml)",
			[]string{
				"../../examples/app/deploy/chart/templates/deployment.yaml:0 Deployment /hello",
				"../../examples/app/deploy/chart/templates/service.yaml:0 Service /hello",
			}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderChart(context.Background(), tt.chart)
			if err != nil {
				t.Fatalf("RenderChart() error = %v", err)
			}
			if tt.want != nil {
				var lines []string
				for _, r := range got {
					lines = append(lines, origin(r))
				}
				if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("RenderChart() =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
				}
			}
			for i, r := range got {
				if r.Stream != tt.stream || r.Index != i {
					t.Errorf("resource %d: Stream, Index = %q, %d; want %q, %d", i, r.Stream, r.Index, tt.stream, i)
				}
			}
			for key, text := range tt.data {
				found := false
				for _, r := range got {
					if r.Kind+"/"+r.Name == key {
						found = true
						if !strings.Contains(string(r.Data), text) {
							t.Errorf("%s Data =\n%s\nwant it to contain %q", key, r.Data, text)
						}
					}
				}
				if !found {
					t.Errorf("RenderChart() has no %s", key)
				}
			}
		})
	}
}

// TestRenderChartLikeHelm pins what helm template does that a plain YAML
// split would not: its looser document separator and trimming, hooks it
// skips, and subcharts (and their CRDs) that a condition disables.
func TestRenderChartLikeHelm(t *testing.T) {
	const tpl = "testdata/chart-edge/templates/"
	tests := []struct {
		name  string
		chart Chart
		want  []string
	}{
		{"hooks with unknown events are skipped", Chart{Dir: "testdata/chart-edge"}, []string{
			tpl + "docs.yaml:0 ConfigMap /release-name-e1",
			tpl + "docs.yaml:0 ConfigMap /release-name-e2",
			tpl + "hooks.yaml:0 ConfigMap /release-name-post [post-install]",
			tpl + "hooks.yaml:0 Pod /release-name-test-success [test-success]",
			tpl + "hooks.yaml:0 Pod /release-name-test-mixed [ Test , pre-install]",
		}},
		{"SkipTests drops every hook with a test event", Chart{Dir: "testdata/chart-edge", SkipTests: true}, []string{
			tpl + "docs.yaml:0 ConfigMap /release-name-e1",
			tpl + "docs.yaml:0 ConfigMap /release-name-e2",
			tpl + "hooks.yaml:0 ConfigMap /release-name-post [post-install]",
		}},
		{"an enabled subchart brings its CRDs", Chart{Dir: "testdata/chart-edge", Set: []string{"opt.enabled=true"}, SkipTests: true}, []string{
			"testdata/chart-edge/charts/opt/crds/things.yaml:1 CustomResourceDefinition /things.example.com",
			"testdata/chart-edge/charts/opt/templates/configmap.yaml:0 ConfigMap /release-name-opt",
			tpl + "docs.yaml:0 ConfigMap /release-name-e1",
			tpl + "docs.yaml:0 ConfigMap /release-name-e2",
			tpl + "hooks.yaml:0 ConfigMap /release-name-post [post-install]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderChart(context.Background(), tt.chart)
			if err != nil {
				t.Fatalf("RenderChart() error = %v", err)
			}
			var lines []string
			for _, r := range got {
				lines = append(lines, origin(r))
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("RenderChart() =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
			const e1 = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release-name-e1\n"
			if i := slices.IndexFunc(got, func(r Resource) bool { return r.Name == "release-name-e1" }); i < 0 || string(got[i].Data) != e1 {
				t.Errorf("RenderChart() e1 Data = %q, want %q", got[max(i, 0)].Data, e1)
			}
		})
	}
}

// FuzzHelmDocs checks helmDocs against the Helm function it stands in for.
func FuzzHelmDocs(f *testing.F) {
	for _, s := range []string{
		"a: 1\n", "---\na: 1\n---\nb: 2", "  \n---  \n---\n---\na\n", "a\n------\nb", "a\n--- b: 1\n---# c\n",
		"a\r\n---\r\nb\r\n", "\v---\na", "a \n \n---\n\n  b: |\n    ---\n", "---", "-- -\n---x\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := releaseutil.SplitManifests(s)
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		var want []string
		for _, k := range keys {
			if m[k] != "" { // Helm's SortManifests skips these
				want = append(want, m[k])
			}
		}
		if got := helmDocs(s); !slices.Equal(got, want) {
			t.Errorf("helmDocs(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestChartStaysLean keeps RenderChart on the Helm SDK's rendering
// packages: action and the values getter link a Kubernetes client,
// kubectl, OCI registries and release storage, which a step that only
// renders pays for at every start.
func TestChartStaysLean(t *testing.T) {
	depchecktest.Forbid(t, "package render", []string{"."},
		"helm.sh/helm/v3/pkg/action", "helm.sh/helm/v3/pkg/getter", "helm.sh/helm/v3/pkg/cli",
		"helm.sh/helm/v3/pkg/kube", "helm.sh/helm/v3/pkg/registry", "helm.sh/helm/v3/pkg/storage",
		"k8s.io/kubectl/", "k8s.io/cli-runtime/", "oras.land/", "github.com/spf13/cobra")
}

// TestRenderChartArchive maps the templates of a packaged subchart to its
// archive, the file a human would replace.
func TestRenderChartArchive(t *testing.T) {
	dir := t.TempDir()
	sub, err := loader.Load("testdata/chart/charts/subchart")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "charts"), 0o755); err != nil {
		t.Fatal(err)
	}
	tgz, err := chartutil.Save(sub, filepath.Join(dir, "charts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: parent\nversion: 1.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := RenderChart(context.Background(), Chart{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Source != filepath.ToSlash(tgz) {
		t.Errorf("RenderChart() = %v, want one resource from %s", got, tgz)
	}
}

// TestRenderConcurrently renders in parallel, as a step may for several
// environments; run with -race.
func TestRenderConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := RenderChart(context.Background(), Chart{Dir: "testdata/chart", Values: []string{"testdata/values/dev.yaml"}}); err != nil {
				t.Error(err)
			}
			if _, err := RenderKustomize(context.Background(), "testdata/kustomize/overlays/dev"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestRenderChartErrors(t *testing.T) {
	tests := []struct {
		name  string
		chart Chart
		input bool // wraps ErrInput: exit 2
		want  string
	}{
		{"missing chart", Chart{Dir: "testdata/nope"}, true, `chart "testdata/nope" does not exist`},
		{"a file, not a chart directory", Chart{Dir: "testdata/chart/Chart.yaml"}, true, `chart "testdata/chart/Chart.yaml" is not a directory`},
		{"not a chart", Chart{Dir: "testdata/values"}, true, `"testdata/values" is not a chart: it has no Chart.yaml`},
		{"library chart", Chart{Dir: "testdata/charts/library"}, true, `chart "testdata/charts/library" is a library chart, which cannot be rendered`},
		{"dependency not built", Chart{Dir: "testdata/charts/missingdep"}, true,
			`chart "testdata/charts/missingdep": dependency postgresql 12.0.0 from https://charts.example.com is in Chart.yaml but not in testdata/charts/missingdep/charts: run helm dependency build testdata/charts/missingdep (it fetches what Chart.lock pins into charts/)`},
		{"file:// dependency of another version", Chart{Dir: "testdata/charts/filedep-badversion"}, true,
			`chart "testdata/charts/filedep-badversion": dependency sub from file://../filedep-sub: version 0.2.1 does not satisfy the constraint ^1.0.0`},
		{"missing values file", Chart{Dir: "testdata/chart", Values: []string{"testdata/values/dev.yaml", "testdata/values/nope.yaml"}}, true,
			`values file "testdata/values/nope.yaml" does not exist`},
		{"values file is a directory", Chart{Dir: "testdata/chart", Values: []string{"testdata/values"}}, true,
			`values file "testdata/values" is a directory`},
		{"--set without a value", Chart{Dir: "testdata/chart", Set: []string{"image.tag"}}, true,
			`chart "testdata/chart": invalid --set: key "tag" has no value`},
		{"--set with a broken index", Chart{Dir: "testdata/chart", Set: []string{"a[x]=1"}}, true,
			`chart "testdata/chart": invalid --set:`},
		{"bad kubernetes version", Chart{Dir: "testdata/chart", KubeVersion: "one"}, true, `kubernetes version "one"`},
		{"bad release name", Chart{Dir: "testdata/chart", ReleaseName: "Not_Valid"}, true, `release name "Not_Valid"`},
		{"malformed values file", Chart{Dir: "testdata/chart", Values: []string{"testdata/values/malformed.yaml"}}, false,
			`chart "testdata/chart": failed to parse testdata/values/malformed.yaml: error converting YAML to JSON: yaml: line 3: did not find expected key`},
		{"template error keeps helm's template, line and column", Chart{Dir: "testdata/charts/broken"}, false,
			`render chart "testdata/charts/broken": template: testdata/charts/broken/templates/configmap.yaml:6:18: executing "testdata/charts/broken/templates/configmap.yaml" at <.Values.service.port>: nil pointer evaluating interface {}.port`},
		{"rendered document without kind names the template", Chart{Dir: "testdata/charts/nokind"}, false,
			`render chart "testdata/charts/nokind": testdata/charts/nokind/templates/thing.yaml: document has no kind`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RenderChart(context.Background(), tt.chart)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("RenderChart() error = %v, want it to contain %q", err, tt.want)
			}
			if got := errors.Is(err, ErrInput); got != tt.input {
				t.Errorf("errors.Is(%v, ErrInput) = %v, want %v", err, got, tt.input)
			}
		})
	}
}

// A dependency whose repository is file:// renders from where it points,
// under its name and its alias, when charts/ lacks it (helm dependency
// build would copy it there); its templates are named by their own path.
func TestRenderChartFileDependency(t *testing.T) {
	got, err := RenderChart(context.Background(), Chart{Dir: "testdata/charts/filedep"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name+" "+r.Source)
	}
	want := []string{
		"other-hi testdata/charts/filedep-sub/templates/cm.yaml",
		"sub-hello testdata/charts/filedep-sub/templates/cm.yaml",
		"parent testdata/charts/filedep/templates/cm.yaml",
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("rendered\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
}

// Every missing dependency is named, with its version and repository.
func TestRenderChartMissingDependencies(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte(`apiVersion: v2
name: app
version: 1.0.0
dependencies:
  - {name: common, version: 2.x.x, repository: oci://registry-1.docker.io/bitnamicharts}
  - {name: redis, version: 20.1.0, repository: https://charts.bitnami.com/bitnami}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := RenderChart(context.Background(), Chart{Dir: dir})
	want := "dependency common 2.x.x from oci://registry-1.docker.io/bitnamicharts; dependency redis 20.1.0 from https://charts.bitnami.com/bitnami are in Chart.yaml but not in " +
		filepath.Join(dir, "charts") + ": run helm dependency build " + dir
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrInput) {
		t.Errorf("err = %v, want an input error containing %q", err, want)
	}
}

// TestTemplateKinds: the kinds a chart's templates and crds/ name at the
// top level of their documents, its unpacked subcharts' too, without
// rendering; kinds written as template expressions are left out, API
// versions written so are left empty.
func TestTemplateKinds(t *testing.T) {
	got := TemplateKinds("testdata/chart")
	want := []Kind{
		{"v1", "ConfigMap"}, // charts/subchart/templates
		{"apiextensions.k8s.io/v1", "CustomResourceDefinition"}, // crds/, twice
		{"apps/v1", "Deployment"},
		{"v1", "List"},
		{"batch/v1", "Job"},
		{"v1", "Service"},
		{"v1", "Pod"}, // templates/tests
		{"example.com/v1", "Widget"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("TemplateKinds(testdata/chart) =\n%v\nwant\n%v", got, want)
	}
	if got := TemplateKinds("testdata/nope"); got != nil {
		t.Errorf("TemplateKinds(a missing directory) = %v, want none", got)
	}

	for _, tt := range []struct {
		name, template string
		want           []Kind
	}{
		{"one document", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n", []Kind{{"apps/v1", "Deployment"}}},
		{"kind first, quoted, commented", "kind: \"Service\" # the front\napiVersion: 'v1'\n", []Kind{{"v1", "Service"}}},
		{"documents in a range", "{{- range .Values.instances }}\n---\napiVersion: v1\nkind: ConfigMap\n{{- end }}\n---\napiVersion: batch/v1\nkind: CronJob\n",
			[]Kind{{"v1", "ConfigMap"}, {"batch/v1", "CronJob"}}},
		{"apiVersion from a helper", "apiVersion: {{ include \"common.capabilities.deployment.apiVersion\" . }}\nkind: Deployment\n", []Kind{{"", "Deployment"}}},
		{"templated kind", "apiVersion: v1\nkind: {{ .Values.kind }}\n", nil},
		{"nested kind lines are not the document's", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  scaleTargetRef:\n    kind: Deployment\n",
			[]Kind{{"autoscaling/v2", "HorizontalPodAutoscaler"}}},
		{"a document without kind", "apiVersion: v1\n---\nkind: Secret\n", []Kind{{"", "Secret"}}},
		{"CRLF and no final newline", "apiVersion: v1\r\nkind: Namespace", []Kind{{"v1", "Namespace"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := literalKinds([]byte(tt.template)); !slices.Equal(got, tt.want) {
				t.Errorf("literalKinds(%q) = %v, want %v", tt.template, got, tt.want)
			}
		})
	}
}

// Rendered files are cut into documents on every core: the resources keep
// the order of one core's, and of several broken templates, the error
// names the first in that order, in every run.
func TestRenderChartOrderAcrossCores(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Chart.yaml", "apiVersion: v2\nname: many\nversion: 1.0.0\n")
	var want []string
	for i := range 60 {
		write(fmt.Sprintf("templates/t%02d.yaml", i), fmt.Sprintf("{{- range $j := until 3 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t%02d-{{ $j }}\n{{- end }}\n", i))
		for j := range 3 {
			want = append(want, fmt.Sprintf("%d t%02d-%d", len(want), i, j))
		}
	}
	for run := range 5 {
		rs, err := RenderChart(context.Background(), Chart{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, fmt.Sprintf("%d %s", r.Index, r.Name))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("run %d: RenderChart() = %v, want %v", run, got, want)
		}
	}
	write("templates/t10.yaml", "apiVersion: v1\nmetadata:\n  name: nokind\n")
	write("templates/t50.yaml", "kind: ConfigMap\nmetadata:\n  name: noapiversion\n")
	for run := range 5 {
		_, err := RenderChart(context.Background(), Chart{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), "/templates/t10.yaml: document has no kind") {
			t.Fatalf("run %d: RenderChart() error = %v, want t10.yaml's", run, err)
		}
	}
}
