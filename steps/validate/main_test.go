package main

// End-to-end tests of the built gitship-validate binary, run the way each
// CI system runs it. No test reaches the network: every schema comes from
// the binary, a CRD, or a server on loopback.

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitship/gitship/internal/sariftest"
	"github.com/gitship/gitship/internal/steptest"
)

var binary string

func TestMain(m *testing.M) { steptest.Main(m, "gitship-validate", &binary) }

func run(t *testing.T, dir string, env map[string]string, args ...string) steptest.Result {
	t.Helper()
	return steptest.Run(t, binary, dir, env, args...)
}

func noCrash(t *testing.T, res steptest.Result) {
	t.Helper()
	if strings.Contains(res.Stderr, "panic") || strings.Contains(res.Stderr, "goroutine ") {
		t.Errorf("crashed: %s", res.Stderr)
	}
}

// The example app's chart renders and validates offline with each
// environment's values, and --render-to leaves one file per resource.
func TestExampleApp(t *testing.T) {
	ws := steptest.Workspace(t, filepath.Join("..", "..", "examples", "app"))
	for _, env := range []string{"dev", "staging", "production"} {
		t.Run(env, func(t *testing.T) {
			out := filepath.Join("rendered", env)
			res := run(t, ws, nil, "--chart", "deploy/chart", "--values", "deploy/values/"+env+".yaml",
				"--release-name", "hello", "--render-to", out)
			if res.Code != 0 {
				t.Fatalf("exit code = %d, want 0\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
			}
			if !strings.Contains(res.Stdout, "2 resources: 2 valid, 0 invalid") {
				t.Errorf("stdout lacks the verdict:\n%s", res.Stdout)
			}
			files, _ := filepath.Glob(filepath.Join(ws, out, "*.yaml"))
			if len(files) != 2 {
				t.Errorf("--render-to wrote %v, want a Deployment and a Service", files)
			}
			var outputs map[string]string
			data, _ := os.ReadFile(filepath.Join(ws, ".gitship", "validate.json"))
			json.Unmarshal(data, &outputs)
			if outputs["resources"] != "2" || outputs["invalid"] != "0" || outputs["rendered-path"] != out {
				t.Errorf("outputs = %v", outputs)
			}
		})
	}
}

// The planted mistakes, seen by each CI system: every annotation names
// the template and the field.
func TestPlatforms(t *testing.T) {
	tests := []struct {
		name string
		env  func(ws, tmp string) map[string]string
		args []string
	}{
		{"github", func(ws, tmp string) map[string]string {
			return map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": ws, "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
				"GITHUB_REF": "refs/pull/7/merge", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_SERVER_URL": "https://github.com",
				"GITHUB_RUN_ID": "1", "GITHUB_OUTPUT": filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary"),
				"INPUT_CHART": "chart", "INPUT_VALUES": "values/dev.yaml", "INPUT_STRICT": "true", "INPUT_MISSING-SCHEMAS": "fail",
				"INPUT_FORMAT": "text", "INPUT_OUTPUT": "", "INPUT_KUSTOMIZE": "", "INPUT_RELEASE-NAME": "shop",
			}
		}, nil},
		{"azure", func(ws, tmp string) map[string]string {
			return map[string]string{
				"TF_BUILD": "True", "BUILD_SOURCESDIRECTORY": ws, "BUILD_SOURCEVERSION": "0123456789abcdef",
				"BUILD_SOURCEBRANCH": "refs/heads/main", "BUILD_BUILDID": "5", "AGENT_TEMPDIRECTORY": tmp,
				"SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "shop",
				"INPUT_CHART": "chart", "INPUT_VALUES": "values/dev.yaml", "INPUT_RELEASENAME": "shop", "INPUT_MISSINGSCHEMAS": "fail",
			}
		}, nil},
		{"cloudbuild", func(ws, tmp string) map[string]string {
			return map[string]string{"BUILD_ID": "b-1", "PROJECT_ID": "acme", "COMMIT_SHA": "0123456789abcdef", "BRANCH_NAME": "main"}
		}, []string{"--chart", "chart", "--values", "values/dev.yaml", "--release-name", "shop"}},
		{"local", func(ws, tmp string) map[string]string {
			return map[string]string{"GITSHIP_CHART": "chart", "GITSHIP_VALUES": "values/dev.yaml", "GITSHIP_RELEASE_NAME": "shop"}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := steptest.Workspace(t, filepath.Join("testdata", "broken"))
			tmp := t.TempDir()
			res := run(t, ws, tt.env(ws, tmp), tt.args...)
			if res.Code != 1 {
				t.Errorf("exit code = %d, want 1\nstderr: %s", res.Code, res.Stderr)
			}
			clean := strings.NewReplacer(ws, "$WORKSPACE", tmp, "$TMP").Replace(res.Stdout)
			steptest.Golden(t, "broken."+tt.name+".stdout", clean)
			if want := "gitship-validate: 2 of 3 resources failed validation: check failed\n"; res.Stderr != want {
				t.Errorf("stderr = %q, want %q", res.Stderr, want)
			}
			switch tt.name {
			case "github":
				out, _ := os.ReadFile(filepath.Join(tmp, "output"))
				if got, want := string(out), "resources=3\ninvalid=2\nrendered-path=\nreport=\n"; got != want {
					t.Errorf("GITHUB_OUTPUT = %q, want %q", got, want)
				}
				summary, _ := os.ReadFile(filepath.Join(tmp, "summary"))
				for _, want := range []string{"| 3 | 1 | 1 | 1 | 0 |", "| `apps/v1 Deployment` | 1 | 0 | 1 | 0 | 0 |", "`chart/templates/deployment.yaml:9`"} {
					if !strings.Contains(string(summary), want) {
						t.Errorf("step summary lacks %q:\n%s", want, summary)
					}
				}
			case "azure":
				if _, err := os.Stat(filepath.Join(tmp, "gitship-validate-summary.md")); err != nil {
					t.Errorf("no summary uploaded: %v", err)
				}
			}
		})
	}
}

// Several Kubernetes versions in one run: each resource is checked against
// each, and what only one version rejects says which.
func TestKubernetesVersions(t *testing.T) {
	ws := t.TempDir()
	writeFile(t, ws, "hpa.yaml", `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: "3"
---
# Served as certificates.k8s.io/v1 from Kubernetes 1.37 only.
apiVersion: certificates.k8s.io/v1
kind: ClusterTrustBundle
metadata:
  name: ca
spec:
  trustBundle: "-----BEGIN CERTIFICATE-----"
`)
	res := run(t, ws, nil, "--manifests", "hpa.yaml", "--kubernetes-version", "1.34.0,1.37.0", "--format", "json")
	if res.Code != 1 {
		t.Fatalf("exit code = %d, want 1\nstderr: %s", res.Code, res.Stderr)
	}
	var doc struct {
		KubernetesVersions []string `json:"kubernetesVersions"`
		Resources          []struct {
			Checks []struct {
				KubernetesVersion string `json:"kubernetesVersion"`
				Status            string `json:"status"`
			} `json:"checks"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.Stdout)
	}
	if len(doc.Resources) != 2 || len(doc.Resources[0].Checks) != 2 ||
		doc.Resources[0].Checks[0].KubernetesVersion != "1.34.0" || doc.Resources[0].Checks[1].KubernetesVersion != "1.37.0" {
		t.Fatalf("want one check per version, got %+v", doc)
	}
	if got := doc.Resources[1].Checks; got[0].Status != "missing" || got[1].Status != "valid" {
		t.Errorf("ClusterTrustBundle: want missing in 1.34 and valid in 1.37, got %+v", got)
	}
	if !strings.Contains(res.Stderr, "error: ClusterTrustBundle ca: no schema for certificates.k8s.io/v1 ClusterTrustBundle") ||
		!strings.Contains(res.Stderr, "(Kubernetes 1.34.0)") {
		t.Errorf("what only 1.34 rejects does not say so:\n%s", res.Stderr)
	}
	if !strings.Contains(res.Stderr, "hpa.yaml:8:3: error: HorizontalPodAutoscaler web: spec.maxReplicas: wrong type: got string, want integer [VL1001]") {
		t.Errorf("the problem found by both versions is not reported once with its line:\n%s", res.Stderr)
	}
}

// CRDs: custom resources validate against the schema of every served
// version of their CRD, without network.
func TestCRD(t *testing.T) {
	ws := steptest.Workspace(t, filepath.Join("testdata", "crd"))
	t.Run("given with --crd", func(t *testing.T) {
		res := run(t, ws, nil, "--manifests", "crontabs.yaml", "--crd", "crontab-crd.yaml")
		if res.Code != 1 {
			t.Fatalf("exit code = %d, want 1\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
		for _, want := range []string{
			"3 resources: 2 valid, 1 invalid",
			"crontabs.yaml:23:3: error: CronTab bad: spec.cronSpec: wrong type: got number, want string [VL1001]",
			"crontabs.yaml:24:3: error: CronTab bad: spec.replicas: minimum: got 0, want 1 [VL1001]",
			"crontabs.yaml:25:3: error: CronTab bad: spec.imag: unknown field (not in the schema) [VL1001]",
			"crontabs.yaml:22:1: error: CronTab bad: spec.image: required field is missing [VL1001]",
		} {
			if !strings.Contains(res.Stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
			}
		}
	})
	t.Run("found among the manifests", func(t *testing.T) {
		res := run(t, ws, nil, "--manifests", "crontab-crd.yaml", "--manifests", "crontabs.yaml")
		if res.Code != 1 || !strings.Contains(res.Stdout, "4 resources: 3 valid, 1 invalid") {
			t.Errorf("exit code = %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
	})
	t.Run("without the CRD", func(t *testing.T) {
		res := run(t, ws, nil, "--manifests", "crontabs.yaml", "--missing-schemas", "warn")
		if res.Code != 0 || !strings.Contains(res.Stdout, "warning: CronTab good: no schema for stable.example.com/v1 CronTab") {
			t.Errorf("exit code = %d, want 0 with a warning\nstdout: %s", res.Code, res.Stdout)
		}
		res = run(t, ws, nil, "--manifests", "crontabs.yaml")
		if res.Code != 1 {
			t.Errorf("--missing-schemas fail: exit code = %d, want 1", res.Code)
		}
	})
}

// Reports in every format, and the JSON/JUnit/SARIF on stdout stay
// parseable while the log goes to stderr.
func TestReports(t *testing.T) {
	ws := steptest.Workspace(t, filepath.Join("testdata", "broken"))
	args := []string{"--chart", "chart", "--values", "values/dev.yaml", "--release-name", "shop"}
	t.Run("junit", func(t *testing.T) {
		res := run(t, ws, nil, append(args, "--format", "junit", "--output", "out/validate.xml")...)
		if res.Code != 1 {
			t.Fatalf("exit code = %d", res.Code)
		}
		var doc struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		}
		data, _ := os.ReadFile(filepath.Join(ws, "out", "validate.xml"))
		if err := xml.Unmarshal(data, &doc); err != nil || doc.Tests != 3 || doc.Failures != 2 {
			t.Errorf("validate.xml: %v %+v\n%s", err, doc, data)
		}
		steptest.Golden(t, "broken.junit", string(data))
	})
	t.Run("sarif", func(t *testing.T) {
		res := run(t, ws, nil, append(args, "--format", "sarif")...)
		if err := sariftest.Validate([]byte(res.Stdout)); err != nil {
			t.Errorf("stdout is not valid SARIF: %v\n%s", err, res.Stdout)
		}
		steptest.Golden(t, "broken.sarif", res.Stdout)
		if !strings.Contains(res.Stderr, "Validating 3 resources") {
			t.Errorf("the log did not go to stderr: %q", res.Stderr)
		}
	})
}

// Bad input ends with exit 1 or 2 and a message naming the file, quickly,
// and never with a crash.
func TestBadInput(t *testing.T) {
	bomb := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += fmt.Sprintf("%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	tests := []struct {
		name   string
		files  map[string]string
		args   []string
		code   int
		output string // expected in stdout or stderr
	}{
		{"nothing to validate", nil, nil, 2, "nothing to validate"},
		{"unknown flag", nil, []string{"--colour"}, 2, "flag provided but not defined"},
		{"bad missing-schemas", nil, []string{"--manifests", "x", "--missing-schemas", "maybe"}, 2, `invalid value "maybe" for input missing-schemas`},
		{"kubernetes version not embedded", map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"},
			[]string{"--manifests", "a.yaml", "--kubernetes-version", "1.20.0"}, 2, "1.20"},
		{"missing manifest", nil, []string{"--manifests", "nope.yaml"}, 2, "nope.yaml"},
		{"malformed YAML", map[string]string{"bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n    namespace: y\n"},
			[]string{"--manifests", "bad.yaml"}, 1, "bad.yaml:5: error: ConfigMap x: invalid YAML: mapping values are not allowed in this context [VL1003]"},
		{"malformed YAML header", map[string]string{"bad.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: [1\n"},
			[]string{"--manifests", "bad.yaml"}, 1, "bad.yaml"},
		{"values file missing", map[string]string{"chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n"},
			[]string{"--chart", "chart", "--values", "prod.yaml"}, 2, "prod.yaml"},
		{"chart fails to render", map[string]string{
			"chart/Chart.yaml":        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
			"chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name | required \"name is required\" }}\n",
		}, []string{"--chart", "chart"}, 1, "chart/templates/cm.yaml"},
		// Not "unable to find one of 'kustomization.yaml'": the file
		// and its problem.
		{"kustomization with invalid YAML", map[string]string{
			"k/kustomization.yaml": "resources:\n  - cm.yaml\n  namePrefix: [\n",
			"k/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
		}, []string{"--kustomize", "k"}, 1, "k/kustomization.yaml:2:1: invalid YAML: did not find expected '-' indicator"},
		{"base kustomization with a tab", map[string]string{
			"base/kustomization.yaml":    "resources:\n\t- cm.yaml\n",
			"overlay/kustomization.yaml": "resources:\n  - ../base\n",
		}, []string{"--kustomize", "overlay"}, 1, "base/kustomization.yaml:2:1: tab in indentation"},
		{"kustomization with an unknown field", map[string]string{"k/kustomization.yaml": "resourcez: [cm.yaml]\n"},
			[]string{"--kustomize", "k"}, 1, `k/kustomization.yaml:1:1: invalid Kustomization: json: unknown field "resourcez"`},
		{"render-to a directory gitship did not write", map[string]string{
			"a.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
			"out/notes.md": "mine\n",
		}, []string{"--manifests", "a.yaml", "--render-to", "out"}, 2, `--render-to: write "out": directory is not one gitship writes`},
		{"render-to a file", map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "out": "x"},
			[]string{"--manifests", "a.yaml", "--render-to", "out"}, 2, `--render-to: write "out": directory is not one gitship writes: it is not a directory`},
		{"YAML bomb manifest", map[string]string{"bomb.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + strings.Replace(bomb, "a:", "data:\n  a:", 1)},
			[]string{"--manifests", "bomb.yaml"}, 1, "bomb.yaml"},
		{"YAML bomb values", map[string]string{
			"chart/Chart.yaml":        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
			"chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  n: {{ len .Values.i | quote }}\n",
			"bomb.yaml":               bomb,
		}, []string{"--chart", "chart", "--values", "bomb.yaml"}, 0, "bomb.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, dir, name, content)
			}
			start := time.Now()
			res := run(t, dir, nil, tt.args...)
			if tt.code == 0 {
				// A bomb may be refused with either code; it must be refused.
				if res.Code != 1 && res.Code != 2 {
					t.Errorf("exit code = %d, want 1 or 2\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
				}
			} else if res.Code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", res.Code, tt.code, res.Stdout, res.Stderr)
			}
			if !strings.Contains(res.Stdout+res.Stderr, tt.output) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tt.output, res.Stdout, res.Stderr)
			}
			if content, ok := tt.files["out/notes.md"]; ok {
				if got, err := os.ReadFile(filepath.Join(dir, "out", "notes.md")); err != nil || string(got) != content {
					t.Errorf("out/notes.md = %q, %v after the run; want it left as it was", got, err)
				}
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: not bounded", d)
			}
			noCrash(t, res)
		})
	}
}

// --schema-location adds a kubeconform location; what it serves is cached
// on disk, so a second run needs no server.
func TestSchemaLocation(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/v1.37.0/widget-example-v1.json" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"type":"object","properties":{"apiVersion":{"type":"string"},"kind":{"type":"string"},"metadata":{"type":"object"},"size":{"type":"integer"}},"additionalProperties":false}`)
	}))
	ws := t.TempDir()
	writeFile(t, ws, "w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nsize: big\n")
	cache := filepath.Join(t.TempDir(), "cache")
	args := []string{"--manifests", "w.yaml", "--kubernetes-version", "1.37.0", "--schema-cache", cache,
		"--schema-location", srv.URL + "/{{ .NormalizedKubernetesVersion }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"}
	res := run(t, ws, nil, args...)
	if res.Code != 1 || !strings.Contains(res.Stdout, "Widget w: ") || !strings.Contains(res.Stdout, "size") {
		t.Fatalf("exit code = %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	if hits.Load() == 0 {
		t.Fatal("the schema location was never asked")
	}
	srv.Close()
	res = run(t, ws, nil, args...)
	if res.Code != 1 || !strings.Contains(res.Stdout, "size") {
		t.Errorf("with the server gone, the cached schema was not used: exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
}

// A Kustomize overlay builds in-process; its resources name the
// kustomization they come from.
func TestKustomize(t *testing.T) {
	ws := steptest.Workspace(t, filepath.Join("..", "..", "shared", "render", "testdata", "kustomize"))
	res := run(t, ws, nil, "--kustomize", "overlays/dev", "--format", "json")
	if res.Code != 0 {
		t.Fatalf("exit code = %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	var doc struct {
		Summary   struct{ Resources, Valid int } `json:"summary"`
		Resources []struct{ Source, Kind string }
	}
	if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil || doc.Summary.Resources != 3 || doc.Summary.Valid != 3 {
		t.Fatalf("report: %v %+v\n%s", err, doc, res.Stdout)
	}
	if doc.Resources[0].Source != "overlays/dev/kustomization.yaml" {
		t.Errorf("source = %q, want the overlay's kustomization", doc.Resources[0].Source)
	}
}

// Manifests from stdin, as in helm template | gitship-validate --manifests -.
func TestStdin(t *testing.T) {
	res := steptest.RunStdin(t, binary, t.TempDir(), nil,
		[]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  stringData: {k: v}\n"),
		"--manifests", "-")
	if res.Code != 0 || !strings.Contains(res.Stdout, "2 resources: 2 valid") {
		t.Errorf("exit code = %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
