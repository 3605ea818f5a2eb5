package paritytest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitship/gitship/shared/schema"
)

// TestEnumsAndFormats validates testdata/written/formats, one resource a
// file, with gitship and with kubeconform (the schemas gitship exports,
// strict, the oldest and the newest embedded version) and asserts both reach the verdict the
// table gives. Both compile with santhosh-tekuri/jsonschema/v6 in draft 4,
// which asserts the formats it knows (date-time, and the duration
// kubeconform registers) and ignores the others: int32, int64, byte,
// double. int-or-string and Quantity are type lists in the schemas
// (integer|string, number|string), with no pattern. The built-in schemas
// carry no enum (tools/schemagen leaves them out, as the swagger.json
// kubeconform's own schemas come from has none); a CRD's enum is kept.
// Where the API server would refuse what both accept, apiServer says why.
func TestEnumsAndFormats(t *testing.T) {
	cases := []struct {
		file, want string
		apiServer  string // "" when the API server agrees
		// message is in gitship's detail when set. A field that may be
		// null has null in its enum (schema.allowNull), which the message
		// used to offer: "'weekly', <nil>".
		message string
	}{
		{"service-port-list.yaml", "invalid", "", ""},
		{"service-port-name.yaml", "valid", "", ""},
		{"pod-quantity.yaml", "valid", "refuses 1Gx: Quantity is a number|string type, no pattern, in kubeconform's schemas and gitship's", ""},
		{"pod-quantity-list.yaml", "invalid", "", ""},
		{"pod-pull-policy.yaml", "valid", "refuses Sometimes: the built-in schemas have no enums, in kubeconform's (from swagger.json) and gitship's alike", ""},
		{"configmap-date-time.yaml", "invalid", "", ""},
		{"configmap-date-time-ok.yaml", "valid", "", ""},
		{"secret-byte.yaml", "valid", "refuses data that is not base64: format byte is not one jsonschema/v6 asserts", ""},
		{"deployment-int32.yaml", "valid", "refuses 3000000000 replicas: format int32 is not asserted", ""},
		{"crd.yaml", "valid", "", ""},
		{"backup-ok.yaml", "valid", "", ""},
		{"backup-enum.yaml", "invalid", "", "spec.schedule: value must be one of 'hourly', 'daily', 'weekly'"},
		{"backup-duration.yaml", "invalid", "", ""},
		{"backup-date-time.yaml", "invalid", "", ""},
	}
	versions := schema.Versions()
	if len(versions) == 0 {
		t.Fatal("no embedded schemas")
	}
	in := input{kind: "manifests", path: "written/formats"}
	dir := filepath.Join("testdata", filepath.FromSlash(in.path))
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.file] = true
	}
	for _, f := range files {
		if !covered[f.Name()] {
			t.Errorf("%s: in %s but not in the table", f.Name(), dir)
		}
	}
	for _, v := range slices.Compact([]string{versions[0], versions[len(versions)-1]}) {
		schemas := t.TempDir()
		exportSchemas(t, schemas, v)
		streams := renderInput(t, in, v)
		crds := exportCRDs(t, schemas, v, streams)
		if len(crds) != 1 {
			t.Fatalf("%d CRDs among %s, want 1 (crd.yaml)", len(crds), dir)
		}
		gs := gitshipVerdicts(t, v, streams, crds)
		ks := kubeconformVerdicts(t, v, streams, schemas)
		for _, c := range cases {
			t.Run(v+"/"+strings.TrimSuffix(c.file, ".yaml"), func(t *testing.T) {
				name := filepath.ToSlash(filepath.Join(dir, c.file))
				g, k := gs[name], ks[name]
				if len(g) != 1 || len(k) != 1 {
					t.Fatalf("%s: gitship %d verdicts %v, kubeconform %d %v; want 1 each", c.file, len(g), g, len(k), k)
				}
				if g[0].status != c.want || k[0].status != c.want {
					t.Errorf("%s (Kubernetes %s): gitship %s (%s), kubeconform %s (%s); want %s for both",
						c.file, v, g[0].status, g[0].detail, k[0].status, k[0].detail, c.want)
				}
				t.Logf("%s %s: gitship %s %q; kubeconform %s %q", g[0].kind, g[0].name, g[0].status, g[0].detail, k[0].status, k[0].detail)
				if c.message != "" && !strings.HasSuffix(g[0].detail, c.message) {
					t.Errorf("%s: gitship says %q, want it to end %q", c.file, g[0].detail, c.message)
				}
				if c.apiServer != "" {
					t.Logf("both accept what the API server %s", c.apiServer)
				}
			})
		}
	}
}
