package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitship/gitship/internal/steptest"
)

// versionReport is the part of the JSON report that says what was checked
// against which Kubernetes version.
type versionReport struct {
	KubernetesVersions []string `json:"kubernetesVersions"`
	Resources          []struct {
		Kind   string `json:"kind"`
		Checks []struct {
			KubernetesVersion string `json:"kubernetesVersion"`
			Status            string `json:"status"`
		} `json:"checks"`
	} `json:"resources"`
}

func parseVersionReport(t *testing.T, res steptest.Result) versionReport {
	t.Helper()
	var doc versionReport
	if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s\nstderr: %s", err, res.Stdout, res.Stderr)
	}
	return doc
}

// The releases a team may still run, 1.29 to the newest, validate the
// example chart offline with one result per version; a patch gitship does
// not embed is validated against the one of its minor it does, with a note.
func TestEveryEmbeddedVersion(t *testing.T) {
	ws := steptest.Workspace(t, filepath.Join("..", "..", "examples", "app"))
	versions := []string{"1.29.0", "1.31.0", "1.33.0", "1.37.0"}
	res := run(t, ws, nil, "--chart", "deploy/chart", "--values", "deploy/values/dev.yaml", "--release-name", "hello",
		"--kubernetes-version", strings.Join(versions, ","), "--format", "json")
	if res.Code != 0 {
		t.Fatalf("exit code = %d, want 0\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	doc := parseVersionReport(t, res)
	if strings.Join(doc.KubernetesVersions, ",") != strings.Join(versions, ",") || len(doc.Resources) != 2 {
		t.Fatalf("report: versions %q, %d resources; want %q and 2", doc.KubernetesVersions, len(doc.Resources), versions)
	}
	for _, r := range doc.Resources {
		if len(r.Checks) != len(versions) {
			t.Errorf("%s: %d checks, want one per version", r.Kind, len(r.Checks))
			continue
		}
		for i, c := range r.Checks {
			if c.KubernetesVersion != versions[i] || c.Status != "valid" {
				t.Errorf("%s: check %d = %+v, want %s valid", r.Kind, i, c, versions[i])
			}
		}
	}
	for _, minor := range []string{"1.29", "1.31", "1.33", "1.37"} {
		note := "note: Kubernetes " + minor + ".0: validating against " + minor + "."
		if !strings.Contains(res.Stderr, note) || !strings.Contains(res.Stderr, ", the "+minor+" patch gitship embeds") {
			t.Errorf("no note that %s.0 is validated against the embedded %s patch:\n%s", minor, minor, res.Stderr)
		}
	}
}

// A kind the API server stopped serving within the range is missing for
// exactly the versions that lack it: flowcontrol v1beta3 went in 1.32.
func TestKindRemovedInVersion(t *testing.T) {
	ws := t.TempDir()
	writeFile(t, ws, "flowschema.yaml", `apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata:
  name: batch
spec:
  priorityLevelConfiguration: {name: workload-low}
  matchingPrecedence: 1000
  rules:
  - subjects:
    - kind: ServiceAccount
      serviceAccount: {name: batch, namespace: jobs}
    resourceRules:
    - verbs: ["*"]
      apiGroups: ["*"]
      resources: ["*"]
      namespaces: ["*"]
`)
	res := run(t, ws, nil, "--manifests", "flowschema.yaml", "--kubernetes-version", "1.29.0,1.31.0,1.33.0,1.37.0", "--format", "json")
	if res.Code != 1 {
		t.Fatalf("exit code = %d, want 1 (no schema in two versions)\nstderr: %s", res.Code, res.Stderr)
	}
	doc := parseVersionReport(t, res)
	if len(doc.Resources) != 1 || len(doc.Resources[0].Checks) != 4 {
		t.Fatalf("want one resource with four checks, got %+v", doc)
	}
	want := map[string]string{"1.29.0": "valid", "1.31.0": "valid", "1.33.0": "missing", "1.37.0": "missing"}
	for _, c := range doc.Resources[0].Checks {
		if want[c.KubernetesVersion] != c.Status {
			t.Errorf("Kubernetes %s: %s, want %s", c.KubernetesVersion, c.Status, want[c.KubernetesVersion])
		}
	}
	for _, v := range []string{"1.33.0", "1.37.0"} {
		if !strings.Contains(res.Stderr, "(Kubernetes "+v+")") {
			t.Errorf("the missing schema is not reported for %s:\n%s", v, res.Stderr)
		}
	}
	for _, v := range []string{"1.29.0", "1.31.0"} {
		if strings.Contains(res.Stderr, "(Kubernetes "+v+")") {
			t.Errorf("a problem is reported for %s, which serves the kind:\n%s", v, res.Stderr)
		}
	}
}

// A version newer than any embedded one is refused (exit 2) naming the
// embedded range, before anything renders; --kubernetes-version-fallback
// nearest validates against the newest instead, with a warning.
func TestVersionFallback(t *testing.T) {
	ws := t.TempDir()
	writeFile(t, ws, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n")
	res := run(t, ws, nil, "--manifests", "cm.yaml", "--kubernetes-version", "1.99.0")
	if res.Code != 2 {
		t.Fatalf("exit code = %d, want 2\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stderr, "--kubernetes-version: kubernetes version \"1.99.0\": no schemas for this Kubernetes version (embedded: 1.29 to ") ||
		!strings.Contains(res.Stderr, "--kubernetes-version-fallback nearest") {
		t.Errorf("the refusal does not name the range and the fallback:\n%s", res.Stderr)
	}

	res = run(t, ws, nil, "--manifests", "cm.yaml", "--kubernetes-version", "1.99.0", "--kubernetes-version-fallback", "nearest", "--format", "json")
	if res.Code != 0 {
		t.Fatalf("with nearest: exit code = %d, want 0\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	doc := parseVersionReport(t, res)
	if len(doc.KubernetesVersions) != 1 || !strings.HasPrefix(doc.KubernetesVersions[0], "1.") || doc.KubernetesVersions[0] == "1.99.0" {
		t.Errorf("with nearest the report names %q, want the newest embedded release", doc.KubernetesVersions)
	}
	if !strings.Contains(res.Stderr, "warning: Kubernetes 1.99.0: no embedded schemas, using the nearest embedded release, "+doc.KubernetesVersions[0]) {
		t.Errorf("no warning for the fallback:\n%s", res.Stderr)
	}

	res = run(t, ws, nil, "--manifests", "cm.yaml", "--kubernetes-version-fallback", "closest")
	if res.Code != 2 {
		t.Errorf("--kubernetes-version-fallback closest: exit code = %d, want 2\nstderr: %s", res.Code, res.Stderr)
	}

	res = run(t, ws, nil, "--help")
	if !strings.Contains(res.Stdout, "(embedded: 1.29 to ") || !strings.Contains(res.Stdout, "default: the newest, ") {
		t.Errorf("--help does not name the embedded range and the default:\n%s", res.Stdout)
	}
}
