package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A chart renders for each --kubernetes-version: .Capabilities.KubeVersion
// and .Capabilities.APIVersions (the kinds gitship embeds for that version)
// are that version's. It used to render once, for the first version, and
// validate that render against every version: the FlowSchema below was
// flowcontrol.apiserver.k8s.io/v1beta3 everywhere, "no schema" for the
// versions that dropped it, and the ConfigMap said 1.29.0 for 1.37 too.
// A document every version renders the same is one resource, checked once
// per version. .Capabilities.APIVersions is what the version serves, not
// Helm's defaults plus it (as helm template --api-versions gives): Helm's
// defaults hold flowcontrol.apiserver.k8s.io/v1beta3, gone in 1.32.
func TestChartRendersPerVersion(t *testing.T) {
	ws := t.TempDir()
	for name, content := range map[string]string{
		"chart/Chart.yaml": "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
		"chart/templates/version.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: version
data:
  kubernetes: {{ .Capabilities.KubeVersion.Version | quote }}
`,
		"chart/templates/flowschema.yaml": `{{- if .Capabilities.APIVersions.Has "flowcontrol.apiserver.k8s.io/v1beta3" }}
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
{{- else }}
apiVersion: flowcontrol.apiserver.k8s.io/v1
{{- end }}
kind: FlowSchema
metadata:
  name: batch
spec:
  priorityLevelConfiguration: {name: workload-low}
  matchingPrecedence: 1000
`,
		"chart/templates/same.yaml": `apiVersion: v1
kind: ServiceAccount
metadata:
  name: same
automountServiceAccountToken: "no"
`,
	} {
		writeFile(t, ws, name, content)
	}
	versions := []string{"1.29.0", "1.31.0", "1.33.0", "1.37.0"}
	res := run(t, ws, nil, "--chart", "chart", "--kubernetes-version", strings.Join(versions, ","),
		"--format", "json", "--output", "report.json", "--render-to", "rendered")
	noCrash(t, res)
	if res.Code != 1 { // the ServiceAccount's string bool
		t.Fatalf("exit code = %d, want 1\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	data, err := os.ReadFile(filepath.Join(ws, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources []struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Status     string `json:"status"`
			Checks     []struct {
				KubernetesVersion string `json:"kubernetesVersion"`
				Status            string `json:"status"`
			} `json:"checks"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("report: %v\n%s", err, data)
	}
	got := map[string][]string{} // apiVersion kind → "version status"
	for _, r := range doc.Resources {
		k := r.APIVersion + " " + r.Kind
		for _, c := range r.Checks {
			got[k] = append(got[k], c.KubernetesVersion+" "+c.Status)
		}
	}
	want := map[string][]string{
		// 1.29 to 1.31 serve v1beta3 (removed in 1.32)
		"flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema": {"1.29.0 valid", "1.31.0 valid"},
		"flowcontrol.apiserver.k8s.io/v1 FlowSchema":      {"1.33.0 valid", "1.37.0 valid"},
		"v1 ConfigMap":      {"1.29.0 valid", "1.31.0 valid", "1.33.0 valid", "1.37.0 valid"},
		"v1 ServiceAccount": {"1.29.0 invalid", "1.31.0 invalid", "1.33.0 invalid", "1.37.0 invalid"},
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: checks %v, want %v", k, got[k], w)
		}
	}
	// One ConfigMap per version (each says its version), one FlowSchema
	// per API version, one ServiceAccount for all.
	if n := len(doc.Resources); n != 4+2+1 {
		t.Errorf("%d resources in the report, want 7: %s", n, data)
	}
	var versionsSeen []string
	for _, r := range doc.Resources {
		if r.Kind == "ConfigMap" {
			versionsSeen = append(versionsSeen, r.Checks[0].KubernetesVersion)
		}
	}
	if !slices.Equal(versionsSeen, versions) {
		t.Errorf("ConfigMaps checked for %v, want one per version", versionsSeen)
	}
	// --render-to keeps the first version's render.
	cm, err := os.ReadFile(filepath.Join(ws, "rendered", "configmap-version.yaml"))
	if err != nil || !strings.Contains(string(cm), `kubernetes: "v1.29.0"`) {
		t.Errorf("rendered ConfigMap = %q (%v), want the 1.29.0 render", cm, err)
	}
	if fs, _ := filepath.Glob(filepath.Join(ws, "rendered", "*.yaml")); len(fs) != 3 {
		t.Errorf("--render-to wrote %v, want the 3 resources of the 1.29.0 render", fs)
	}
	var sa []string
	for _, l := range strings.Split(res.Stdout+res.Stderr, "\n") {
		if strings.Contains(l, "ServiceAccount same: automountServiceAccountToken") {
			sa = append(sa, l)
		}
	}
	if len(sa) != 1 || strings.Contains(sa[0], "(Kubernetes 1.") {
		t.Errorf("the ServiceAccount's error, the same for every version, is not reported once: %q\n%s", sa, res.Stdout)
	}
}
