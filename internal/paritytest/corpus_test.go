package paritytest

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/yannh/kubeconform/pkg/validator"

	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/schema"
)

// module is a directory of one of the modules tools/corpus pins.
type module struct{ path, dir string }

const (
	podinfo     = "github.com/stefanprodan/podinfo"
	promCharts  = "github.com/prometheus-community/helm-charts"
	grafana     = "github.com/grafana-community/helm-charts"
	bitnami     = "github.com/bitnami/charts"
	kubeconform = "github.com/yannh/kubeconform"
)

// realCase is one input of the corpus of real third-party charts and
// kustomizations: a directory of a module, copied, with the charts its
// Chart.yaml depends on vendored into charts/ as `helm dependency build`
// leaves them.
type realCase struct {
	input
	from module
	deps []module // vendored into charts/<base name>
	// underRace keeps a kube-prometheus-stack case under -race (raceEnabled).
	underRace bool
	// exclude are files of the directory not copied.
	exclude []string
}

var kpsDeps = []module{
	{promCharts, "charts/kube-state-metrics"},
	{promCharts, "charts/prometheus-node-exporter"},
	{promCharts, "charts/prometheus-windows-exporter"},
	// kube-prometheus-stack asks for grafana 12.11.2; the module proxy
	// serves grafana-community's repository at 13.0.1 only. helm template
	// does not check a vendored dependency's version (it renders what
	// charts/ holds), so both render 13.0.1.
	{grafana, "charts/grafana"},
}

var bitnamiCommon = []module{{bitnami, "bitnami/common"}}

// realCorpus is what TestCorpusSameVerdictsAsKubeconform renders: each
// chart with its default values and its own ci/ and example values
// files, kube-prometheus-stack with its CRDs rendered (crds/ of its crds
// subchart, as helm template --include-crds) and given with --crd.
var realCorpus = []realCase{
	{input: input{kind: "chart", path: "podinfo/chart"}, from: module{podinfo, "charts/podinfo"}},
	{input: input{kind: "chart", path: "podinfo/chart", values: []string{"values-prod.yaml"}}, from: module{podinfo, "charts/podinfo"}},
	{input: input{kind: "kustomize", path: "podinfo/kustomize"}, from: module{podinfo, "kustomize"}},
	{input: input{kind: "chart", path: "podinfo/chart", values: []string{mistakes("podinfo")}}, from: module{podinfo, "charts/podinfo"}},
	{input: input{kind: "chart", path: "bitnami/nginx"}, from: module{bitnami, "bitnami/nginx"}, deps: bitnamiCommon},
	{input: input{kind: "chart", path: "bitnami/nginx", values: []string{mistakes("nginx")}}, from: module{bitnami, "bitnami/nginx"}, deps: bitnamiCommon},
	{input: input{kind: "chart", path: "bitnami/postgresql"}, from: module{bitnami, "bitnami/postgresql"}, deps: bitnamiCommon},
	{input: input{kind: "chart", path: "bitnami/redis"}, from: module{bitnami, "bitnami/redis"}, deps: bitnamiCommon},
	// With its default values, kube-prometheus-stack renders its CRDs
	// (4.5 MB) and both validate them; the other cases give them with
	// --crd (kubeconform: their schemas) and leave them out of the render
	// (crds.enabled=false), so the CRDs are parsed once per version, not
	// once per case, except ci/06, whose subject is the CRDs' upgrade job.
	withRace(kps(nil)),
	kps([]string{"ci/01-provision-crds-values.yaml"}, "crds.enabled=false"),
	kps([]string{"ci/03-non-defaults-values.yaml"}, "crds.enabled=false"),
	kps([]string{"ci/04-prometheus-operator-webhook-values.yaml"}, "crds.enabled=false"),
	kps([]string{"ci/05-ingress-and-gateway-routes-values.yaml"}, "crds.enabled=false"),
	kps([]string{"ci/06-upgrade-crds-values.yaml"}),
	withRace(kps([]string{mistakes("kube-prometheus-stack")}, "crds.enabled=false")),
	// kubeconform's own fixtures, each file a stream (the older corpus,
	// TestSameVerdictsAsKubeconform, compares copies of them). Not
	// valid_large.yaml: 10 MB of valid Deployments, a benchmark's input.
	{input: input{kind: "manifests", path: "kubeconform/fixtures"}, from: module{kubeconform, "fixtures"}, exclude: []string{"valid_large.yaml"}},
	// Equivalents of argocd-example-apps and flux2-kustomize-helm-example,
	// written here in their shapes (testdata/equivalents/README.md): the
	// module proxy does not serve those repositories.
	{input: input{kind: "chart", path: "equivalents/helm-guestbook"}},
	{input: input{kind: "chart", path: "equivalents/helm-guestbook", values: []string{"values-production.yaml"}}},
	{input: input{kind: "chart", path: "equivalents/helm-guestbook", values: []string{"values-mistakes.yaml"}}},
	{input: input{kind: "kustomize", path: "equivalents/kustomize-guestbook"}},
	{input: input{kind: "kustomize", path: "equivalents/flux/apps/staging", crds: []string{"../../crds"}}},
	{input: input{kind: "kustomize", path: "equivalents/flux/infrastructure/controllers", crds: []string{"../../crds"}}},
	{input: input{kind: "manifests", path: "equivalents/flux/clusters/staging", crds: []string{"../../crds"}}},
}

// mistakes is testdata/corpus-values/CHART-mistakes.yaml, values with
// planted mistakes given to a real chart, so the corpus has invalid
// resources to agree on.
func mistakes(chart string) string {
	p, err := filepath.Abs(filepath.Join("testdata", "corpus-values", chart+"-mistakes.yaml"))
	if err != nil {
		panic(err)
	}
	return p
}

// kps is a kube-prometheus-stack case: with values files, and its CRDs
// given with --crd when set leaves them out of the render.
func kps(values []string, set ...string) realCase {
	c := realCase{input: input{kind: "chart", path: "kube-prometheus-stack", values: values, set: set},
		from: module{promCharts, "charts/kube-prometheus-stack"}, deps: kpsDeps}
	if len(set) > 0 {
		c.crds = []string{"charts/crds/crds"}
	}
	return c
}

func withRace(c realCase) realCase {
	c.underRace = true
	return c
}

// name is how the case goes in logs and in the differences table.
func (c realCase) name() string {
	n := c.path
	for _, v := range c.values {
		if filepath.IsAbs(v) {
			v = "testdata/corpus-values/" + filepath.Base(v)
		}
		n += " -f " + v
	}
	for _, s := range c.set {
		n += " --set " + s
	}
	return n
}

// setUp copies the case's directory out of the module cache into root,
// with its dependencies vendored, and points the input at the copy.
func (c *realCase) setUp(t *testing.T, root string, copied map[string]string) {
	t.Helper()
	if c.from.path == "" {
		return // under testdata
	}
	key := c.from.path + "/" + c.from.dir
	if dir, ok := copied[key]; ok {
		c.dir = dir
		return
	}
	dst := filepath.Join(root, filepath.FromSlash(c.path))
	if err := copyTree(filepath.Join(moduleDir(t, c.from.path), filepath.FromSlash(c.from.dir)), dst, c.exclude...); err != nil {
		t.Fatal(err)
	}
	for _, d := range c.deps {
		src := filepath.Join(moduleDir(t, d.path), filepath.FromSlash(d.dir))
		if err := copyTree(src, filepath.Join(dst, "charts", filepath.Base(d.dir))); err != nil {
			t.Fatal(err)
		}
	}
	copied[key], c.dir = dst, dst
}

// difference is a row of testdata/corpus-differences.md: a resource the
// two tools judge differently, and why.
type difference struct {
	caseName, version, resource, gitship, kubeconform, why string
}

func (d difference) key() string {
	return strings.Join([]string{d.caseName, d.version, d.resource, d.gitship, d.kubeconform}, "\x00")
}

// readDifferences reads the table of explained differences: its rows
// after the header, | case | Kubernetes | resource | gitship |
// kubeconform | why |, Kubernetes "*" for every version.
func readDifferences(t *testing.T, path string) []difference {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []difference
	sc := bufio.NewScanner(f)
	header := 0
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "|") {
			continue
		}
		if header < 2 { // the header and its |---| line
			header++
			continue
		}
		cells := strings.Split(strings.Trim(text, "|"), "|")
		if len(cells) != 6 {
			t.Fatalf("%s:%d: %d cells, want 6", path, line, len(cells))
		}
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		out = append(out, difference{cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorpusSameVerdictsAsKubeconform is issue 17's corpus: real
// third-party charts and kustomizations (podinfo, bitnami nginx,
// postgresql and redis with bitnami/common vendored, kube-prometheus-stack
// with its CRDs and dependencies, from the modules tools/corpus pins) and
// written equivalents of argocd-example-apps' and
// flux2-kustomize-helm-example's shapes. Each is rendered by gitship
// (render) and by helm template itself when a helm CLI is at hand
// (helmBinary), validated by gitship (validation.Check, CRDs as --crd)
// and by kubeconform's validator library on helm template's output with
// the schemas gitship exports and the CRDs' schemas, strict, for the
// oldest and the newest embedded Kubernetes version. Both must report
// the same resources (kind and name) with the same verdicts; every
// difference must be a row of testdata/corpus-differences.md, and every
// row must still be a difference.
func TestCorpusSameVerdictsAsKubeconform(t *testing.T) {
	versions := schema.Versions()
	if len(versions) == 0 {
		t.Fatal("no embedded schemas")
	}
	versions = slices.Compact([]string{versions[0], versions[len(versions)-1]})
	helm := helmBinary()
	t.Logf("helm template: %s (%s)", helm, helmCLI.why)

	root := t.TempDir()
	cases := slices.Clone(realCorpus)
	copied := map[string]string{}
	for i := range cases {
		cases[i].setUp(t, root, copied)
	}

	table := filepath.Join("testdata", "corpus-differences.md")
	explainedRows := map[string]difference{}
	for _, d := range readDifferences(t, table) {
		explainedRows[d.key()] = d
	}
	matched := map[string]bool{}

	var resources, invalid, differences, explainedN int
	statuses := map[string]int{}
	crdRoots := t.TempDir()
	kubeconforms := map[string]validator.Validator{}
	for _, v := range versions {
		schemas := t.TempDir()
		exportSchemas(t, schemas, v)
		for _, c := range cases {
			t.Run(v+"/"+c.name(), func(t *testing.T) {
				if raceEnabled && c.path == "kube-prometheus-stack" && (!c.underRace || v != versions[len(versions)-1]) {
					t.Skip("with -race, kube-prometheus-stack is compared for the newest version, with its default values (CRDs rendered) and with planted mistakes (CRDs given with --crd); make test-offline compares every case")
				}
				ins := renderInput(t, c.input, v)
				files := c.crdFiles()
				// kubeconform gets the schemas of the case's CRDs as a
				// location of their own; cases with the same CRDs (every
				// kube-prometheus-stack case) share it, and a validator,
				// which keeps the schemas it compiled, as one kubeconform
				// process validating them all would.
				set := crdSet(t, ins, files)
				crdRoot := filepath.Join(crdRoots, v, set)
				crds := exportCRDs(t, crdRoot, v, ins, files...)
				kv := kubeconforms[v+"/"+set]
				if kv == nil {
					kv = newKubeconform(t, v, schemas, crdRoot)
					kubeconforms[v+"/"+set] = kv
				}
				if c.kind != "manifests" {
					crds = nil // in the stream: gitship learns them from it, as a run does
				}
				gs := gitshipVerdicts(t, v, ins, crds, files...)
				ks := kubeconformVerdictsWith(kv, ins)
				for _, s := range ins {
					var notValid []string
					for _, vd := range gs[s.name] {
						if vd.status != "valid" {
							notValid = append(notValid, fmt.Sprintf("%s/%s %s", vd.kind, vd.name, vd.status))
						}
					}
					t.Logf("%s: %d resources; not valid for gitship: %s", s.name, len(gs[s.name]), strings.Join(notValid, ", "))
					g, k := byResource(gs[s.name]), byResource(ks[s.name])
					if n := pairRandomNames(g, k); n > 0 {
						t.Logf("%d resources named with a random suffix (randAlphaNum) in one render and another in the other: paired", n)
					}
					keys := map[string]bool{}
					for key := range g {
						keys[key] = true
					}
					for key := range k {
						keys[key] = true
					}
					for _, key := range slices.Sorted(maps.Keys(keys)) {
						gv, kv := g[key], k[key]
						resources += max(len(gv), len(kv))
						for _, vd := range gv {
							statuses[vd.status]++
							if vd.status == "invalid" {
								invalid++
							}
						}
						if statusesOf(gv) == statusesOf(kv) {
							continue
						}
						differences++
						d := difference{c.name(), v, key, statusesOf(gv), statusesOf(kv), ""}
						if row, ok := explain(explainedRows, d); ok {
							matched[row.key()] = true
							explainedN++
							t.Logf("%s %s: gitship %s, kubeconform %s: explained: %s", key, v, d.gitship, d.kubeconform, row.why)
							continue
						}
						t.Errorf("%s (Kubernetes %s): gitship %s %s; kubeconform %s %s\n(a row for %s: | %s | %s | %s | %s | %s | why |)",
							key, v, d.gitship, details(gv), d.kubeconform, details(kv), table, c.name(), v, key, d.gitship, d.kubeconform)
					}
				}
			})
		}
	}
	for key, row := range explainedRows {
		if !matched[key] {
			t.Errorf("%s: %s %s %s: explained, but no longer differs: remove the row", table, row.caseName, row.version, row.resource)
		}
	}
	t.Logf("%d cases over Kubernetes %s: %d resources compared (gitship: %v), %d invalid; %d differences, %d of them explained in %s",
		len(cases), strings.Join(versions, " and "), resources, statuses, invalid, differences, explainedN, table)
}

// crdSet names the CRDs among the streams and in files: a hash of their
// contents, in order.
func crdSet(t *testing.T, streams []stream, files []string) string {
	t.Helper()
	h := sha256.New()
	for _, s := range streams {
		for _, r := range s.resources {
			if r.Err == nil && schema.IsCRD(r.APIVersion, r.Kind) {
				h.Write(r.Data)
			}
		}
	}
	if len(files) > 0 {
		rs, err := render.ReadManifests(files, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			h.Write(r.Data)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:12]
}

// byResource groups verdicts by kind/name. Unreadable documents are
// grouped together: what each tool reads of a document it cannot read
// (a kind without an apiVersion, say) differs. kubeconform names a
// resource with metadata.generateName "NAME{{ generateName }}"; gitship
// leaves its name empty, as the API server does until it makes one.
func byResource(vs []verdict) map[string][]verdict {
	out := map[string][]verdict{}
	for _, v := range vs {
		key := v.kind + "/" + v.name
		if strings.HasSuffix(v.name, "{{ generateName }}") {
			key = v.kind + "/"
		}
		if v.status == "error" {
			key = "(unreadable documents)"
		}
		out[key] = append(out[key], v)
	}
	return out
}

// randomSuffix is the -xxxxx that charts append with randAlphaNum 5
// (podinfo's test hooks), different in every render.
var randomSuffix = regexp.MustCompile(`-[a-z0-9]{5}$`)

// pairRandomNames renames, in k, a resource that only k has to the name
// of one that only g has when the two differ in a random suffix only, so
// that they are compared; it returns how many it paired.
func pairRandomNames(g, k map[string][]verdict) int {
	var onlyG, onlyK []string
	for key := range g {
		if _, ok := k[key]; !ok {
			onlyG = append(onlyG, key)
		}
	}
	for key := range k {
		if _, ok := g[key]; !ok {
			onlyK = append(onlyK, key)
		}
	}
	sort.Strings(onlyG)
	sort.Strings(onlyK)
	n := 0
	for _, gk := range onlyG {
		for i, kk := range onlyK {
			if kk == "" || !randomSuffix.MatchString(gk) || randomSuffix.ReplaceAllString(gk, "") != randomSuffix.ReplaceAllString(kk, "") {
				continue
			}
			k[gk] = k[kk]
			delete(k, kk)
			onlyK[i] = ""
			n++
			break
		}
	}
	return n
}

// statusesOf is the verdicts' statuses, sorted, "+"-joined; "absent" for
// none.
func statusesOf(vs []verdict) string {
	if len(vs) == 0 {
		return "absent"
	}
	var s []string
	for _, v := range vs {
		s = append(s, v.status)
	}
	sort.Strings(s)
	return strings.Join(s, "+")
}

func details(vs []verdict) string {
	var s []string
	for _, v := range vs {
		if v.detail != "" {
			s = append(s, fmt.Sprintf("(%s)", v.detail))
		}
	}
	return strings.Join(s, " ")
}

// explain finds d's row: one for its Kubernetes version, or for all ("*").
func explain(rows map[string]difference, d difference) (difference, bool) {
	for _, v := range []string{d.version, "*"} {
		d.version = v
		if row, ok := rows[d.key()]; ok {
			return row, true
		}
	}
	return difference{}, false
}
