package paritytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/yannh/kubeconform/pkg/validator"

	"github.com/gitship/gitship/internal/gotool"
	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/schema"
	"github.com/gitship/gitship/shared/steps/validate"
	"github.com/gitship/gitship/shared/validation"
)

// input is one corpus entry: a manifest directory (every file a stream of
// its own, as kubeconform reads a directory), a chart or a kustomization.
type input struct {
	kind, path string
	values     []string // a chart's values files, in its directory

	// The real charts of TestCorpusSameVerdictsAsKubeconform are copied
	// out of the module cache: dir is where, and path only names them.
	dir  string
	set  []string // a chart's --set values
	crds []string // CRD files or directories under dir, given as --crd
}

// where is the input's directory and the name its streams go by.
func (in input) where() (dir, name string) {
	if in.dir != "" {
		return in.dir, in.path
	}
	dir = filepath.Join("testdata", filepath.FromSlash(in.path))
	return dir, filepath.ToSlash(dir)
}

// crdFiles are in.crds under the input's directory.
func (in input) crdFiles() []string {
	dir, _ := in.where()
	var out []string
	for _, c := range in.crds {
		out = append(out, filepath.Join(dir, filepath.FromSlash(c)))
	}
	return out
}

var corpus = []input{
	{kind: "manifests", path: "kubeconform/fixtures"},
	{kind: "manifests", path: "kubernetes/hack/testdata"},
	{kind: "manifests", path: "kubernetes/test/e2e/testing-manifests"},
	{kind: "manifests", path: "trillian/deployment"},
	{kind: "manifests", path: "nydus-snapshotter/misc/snapshotter"},
	{kind: "kustomize", path: "kubernetes/hack/testdata/kustomize"},
	{kind: "kustomize", path: "nydus-snapshotter/misc/snapshotter/base"},
	{kind: "kustomize", path: "nydus-snapshotter/misc/snapshotter/overlays/k3s"},
	{kind: "kustomize", path: "nydus-snapshotter/misc/snapshotter/overlays/rke2"},
	{kind: "chart", path: "helm/testcharts/alpine"},
	{kind: "chart", path: "helm/testcharts/chart-with-lib-dep"},
	{kind: "chart", path: "helm/testcharts/chart-with-only-crds"},
	{kind: "chart", path: "helm/testcharts/chart-with-subchart-notes"},
	{kind: "chart", path: "helm/testcharts/chart-with-template-lib-dep"},
	{kind: "chart", path: "helm/testcharts/issue-9027"},
	{kind: "chart", path: "helm/testcharts/object-order"},
	{kind: "chart", path: "helm/testcharts/reqtest"},
	{kind: "chart", path: "helm/testcharts/subchart"},
	{kind: "chart", path: "kustomize/test-chart"},
	{kind: "chart", path: "written/webapp"},
	{kind: "chart", path: "written/webapp", values: []string{"values-prod.yaml"}},
	{kind: "chart", path: "written/webapp", values: []string{"values-prod.yaml", "values-broken.yaml"}},
	{kind: "kustomize", path: "written/overlay/prod"},
}

// explained are the differences left, by stream (file or render), each a
// behaviour of kubeconform's that gitship does not share on purpose: the
// test fails on a difference anywhere else, and on an explained stream
// that no longer differs.
var explained = map[string]string{}

func init() {
	const jsonStream = "concatenated JSON objects (a stream kubectl reads): kubeconform's YAML parser reads the first object and drops the others unseen; gitship validates each (render.jsonStream)"
	const typedList = "a typed list (ServiceList, ReplicationControllerList; kubectl accepts them): kubeconform expands only kind List and looks for a schema of the list kind, 'could not find schema'; gitship validates its items, as for List"
	for _, f := range []string{"multi-resource-json.json", "multi-resource-json-modify.json"} {
		explained["testdata/kubernetes/hack/testdata/"+f] = jsonStream
	}
	for _, f := range []string{"multi-resource-rclist.json", "multi-resource-rclist-modify.json", "multi-resource-svclist.json", "multi-resource-svclist-modify.json"} {
		explained["testdata/kubernetes/hack/testdata/"+f] = typedList
	}
}

// verdict is one resource as one tool judged it.
type verdict struct {
	kind, name string
	status     string // valid, invalid, missing, error
	detail     string
}

// TestSameVerdictsAsKubeconform renders and validates every corpus entry
// with gitship's library, validates the same streams with kubeconform's
// validator library (what the kubeconform CLI runs) against the schemas
// gitship exports (tools/schemaexport's layout), strict, and compares
// resource by resource, for the oldest and the newest embedded Kubernetes
// version. Custom resources: both sides get the CRDs of the entry, gitship
// as --crd, kubeconform as exported schema files.
func TestSameVerdictsAsKubeconform(t *testing.T) {
	versions := schema.Versions()
	if len(versions) == 0 {
		t.Fatal("no embedded schemas")
	}
	versions = slices.Compact([]string{versions[0], versions[len(versions)-1]})
	if helmBinary() != "" {
		// helm template adds --api-versions to the API versions of the
		// client library it links, which still has
		// flowcontrol.apiserver.k8s.io/v1beta3: it renders the v1beta3
		// FlowSchema for 1.37 too, which 1.37 does not serve. gitship
		// gives the chart what the version serves (render.Capabilities),
		// as helm install learns it from a cluster: v1 there.
		explained["testdata/written/webapp"] = "helm template's .Capabilities.APIVersions keeps API versions the Kubernetes version no longer serves"
	}
	seen := map[string]bool{}
	total, differences, streams := 0, 0, 0
	statuses := map[string]int{} // gitship's verdicts
	for _, v := range versions {
		schemas := t.TempDir()
		exportSchemas(t, schemas, v)
		for _, in := range corpus {
			t.Run(v+"/"+in.path+"/"+strings.Join(in.values, "+"), func(t *testing.T) {
				ins := renderInput(t, in, v)
				crds := exportCRDs(t, schemas, v, ins)
				gs := gitshipVerdicts(t, v, ins, crds)
				ks := kubeconformVerdicts(t, v, ins, schemas)
				for _, s := range ins {
					streams++
					g, k := gs[s.name], ks[s.name]
					if in.kind == "chart" {
						// helm template sorts by install order (kind, then
						// name); gitship keeps the templates' order
						// (render.RenderChart): compare as sets.
						byKind(g)
						byKind(k)
					}
					total += max(len(g), len(k))
					for _, vd := range g {
						statuses[vd.status]++
					}
					for i := range max(len(g), len(k)) {
						key := fmt.Sprintf("%s#%d", s.name, i)
						var gv, kv verdict
						if i < len(g) {
							gv = g[i]
						}
						if i < len(k) {
							kv = k[i]
						}
						if gv.status == kv.status && (gv.kind == kv.kind || gv.status == "error") {
							continue
						}
						differences++
						why, ok := explained[s.name]
						seen[s.name] = true
						if ok {
							t.Logf("%s: explained: %s", key, why)
							continue
						}
						t.Errorf("%s (Kubernetes %s): gitship %s %s %s (%s); kubeconform %s %s %s (%s)", key, v,
							gv.kind, gv.name, gv.status, gv.detail, kv.kind, kv.name, kv.status, kv.detail)
					}
				}
			})
		}
	}
	for k := range explained {
		if !seen[k] {
			t.Errorf("%s: explained, but no longer differs: remove it", k)
		}
	}
	t.Logf("%d corpus entries, %d streams, %d resources compared over Kubernetes %s (%s); %d differences (explained streams: %d)",
		len(corpus), streams, total, strings.Join(versions, " and "), fmt.Sprint(statuses), differences, len(explained))
}

// byKind sorts verdicts by kind, name and status.
func byKind(vs []verdict) {
	slices.SortStableFunc(vs, func(a, b verdict) int {
		return strings.Compare(a.kind+"\x00"+a.name+"\x00"+a.status, b.kind+"\x00"+b.name+"\x00"+b.status)
	})
}

// stream is what one tool reads at once: a manifest file, or the output of
// helm template or kustomize build.
type stream struct {
	name      string
	data      []byte // what kubeconform reads
	resources []render.Resource
}

func renderInput(t *testing.T, in input, version string) []stream {
	t.Helper()
	ctx := context.Background()
	dir, name := in.where()
	switch in.kind {
	case "manifests":
		var out []stream
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch filepath.Ext(p) { // as kubeconform picks a directory's files
			case ".yaml", ".yml", ".json":
			default:
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rs, err := render.Sources{Manifests: []string{p}, KeepUnreadable: true}.Render(ctx, version, io.Discard)
			if err != nil {
				// What gitship refuses whole, kubeconform reads document
				// by document: reported as a difference below.
				rs = []render.Resource{{Source: p, Err: &render.DocumentError{Msg: err.Error()}}}
			}
			out = append(out, stream{name: filepath.ToSlash(p), data: data, resources: rs})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	case "kustomize":
		rs, err := render.Sources{Kustomize: []string{dir}, KeepUnreadable: true}.Render(ctx, version, io.Discard)
		if err != nil {
			t.Fatalf("kustomize build: %v", err)
		}
		// kustomize build's output: krusty is the library kustomize runs.
		return []stream{{name: name, data: joined(rs), resources: rs}}
	case "chart":
		caps := validate.Capabilities([]string{version})
		var values []string
		for _, v := range in.values {
			if !filepath.IsAbs(v) {
				v = filepath.Join(dir, v)
			}
			values = append(values, v)
		}
		rs, err := render.Sources{Charts: []string{dir}, Values: values, Set: in.set, KeepUnreadable: true}.RenderFor(ctx, caps, io.Discard)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		data := joined(rs)
		if helm := helmBinary(); helm != "" {
			// helm template itself, with the same capabilities.
			args := []string{"template", "release-name", dir, "--include-crds", "--kube-version", version}
			for _, v := range values {
				args = append(args, "-f", v)
			}
			for _, s := range in.set {
				args = append(args, "--set", s)
			}
			for _, a := range caps[0].APIVersions {
				args = append(args, "--api-versions", a)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(helm, args...)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helm template: %v\n%s", err, stderr.Bytes())
			}
			data = out
		}
		return []stream{{name: name, data: data, resources: rs}}
	}
	t.Fatalf("unknown input kind %q", in.kind)
	return nil
}

// helmBinary is a helm CLI to compare renders with: $HELM, the one
// tools/helm pins (built once per machine by gotool, offline), or the one
// bench/validate.sh builds; "" compares the validators on gitship's
// render.
func helmBinary() string {
	helmCLI.Do(func() { helmCLI.bin, helmCLI.why = findHelm() })
	return helmCLI.bin
}

var helmCLI struct {
	sync.Once
	bin, why string
}

func findHelm() (bin, why string) {
	if h := os.Getenv("HELM"); h != "" {
		return h, "$HELM"
	}
	if _, err := gotool.Dir("helm"); err == nil {
		bin, err := gotool.Build(gotool.Command{Tool: "helm", Module: "helm.sh/helm/v3", Package: "helm.sh/helm/v3/cmd/helm", Env: "GITSHIP_HELM"})
		if err == nil {
			return bin, "tools/helm"
		}
		why = fmt.Sprintf("tools/helm: %v; ", err)
	}
	if h, err := filepath.Abs(filepath.Join("..", "..", "bench", "out", "bin", "helm")); err == nil {
		if _, err := os.Stat(h); err == nil {
			return h, why + "bench/out/bin/helm"
		}
	}
	return "", why + "no helm CLI: charts compared on gitship's render"
}

// joined is a render as helm template prints it.
func joined(rs []render.Resource) []byte {
	var b bytes.Buffer
	for _, r := range rs {
		fmt.Fprintf(&b, "---\n# Source: %s\n", r.Source)
		b.Write(r.Data)
		if !bytes.HasSuffix(r.Data, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// exportSchemas writes every kind of version as tools/schemaexport does.
func exportSchemas(t *testing.T, root, version string) {
	t.Helper()
	c, err := schema.Lookup(version)
	if err != nil {
		t.Fatal(err)
	}
	for _, gvk := range c.Kinds() {
		for _, strict := range []bool{false, true} {
			doc, ok, err := c.Schema(gvk.APIVersion(), gvk.Kind, strict)
			if err != nil || !ok {
				t.Fatalf("%s %s: %v", gvk.APIVersion(), gvk.Kind, err)
			}
			writeSchema(t, schema.LocationPath(root, c.Version(), gvk.APIVersion(), gvk.Kind, strict), doc)
		}
	}
}

// exportCRDs writes the strict schemas of the CRDs among the streams and
// in the files given (--crd) for kubeconform, as openapi2jsonschema
// would, and returns the CRD documents among the streams for gitship.
func exportCRDs(t *testing.T, root, version string, streams []stream, files ...string) [][2]string {
	t.Helper()
	var docs [][2]string
	export := func(r render.Resource) {
		vs, err := fromCRD(r.Source, r.Data)
		if err != nil {
			return // the CRD's own verdict says why
		}
		for _, cs := range vs {
			api := cs.Group + "/" + cs.Version
			writeSchema(t, schema.LocationPath(root, version, api, cs.Kind, true), cs.Schema)
		}
	}
	for _, s := range streams {
		for _, r := range s.resources {
			if r.Err != nil || !schema.IsCRD(r.APIVersion, r.Kind) {
				continue
			}
			docs = append(docs, [2]string{r.Source, string(r.Data)})
			export(r)
		}
	}
	if len(files) > 0 {
		rs, err := render.ReadManifests(files, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if schema.IsCRD(r.APIVersion, r.Kind) {
				export(r)
			}
		}
	}
	return docs
}

// converted are the strict schemas of the CRDs exportCRDs converted, by
// the CRD's content: the corpus renders the same CRDs case after case.
var converted sync.Map // [sha256.Size]byte → []schema.CRDSchema or error

func fromCRD(name string, doc []byte) ([]schema.CRDSchema, error) {
	sum := sha256.Sum256(doc)
	if c, ok := converted.Load(sum); ok {
		if err, ok := c.(error); ok {
			return nil, err
		}
		return c.([]schema.CRDSchema), nil
	}
	vs, err := schema.FromCRD(name, doc, true)
	if err != nil {
		converted.Store(sum, err)
		return nil, err
	}
	converted.Store(sum, vs)
	return vs, nil
}

func writeSchema(t *testing.T, p string, doc []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, doc, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gitshipVerdicts validates the streams as gitship-validate does (Check),
// with the CRDs among every stream learnt first and crdFiles as --crd.
func gitshipVerdicts(t *testing.T, version string, streams []stream, crds [][2]string, crdFiles ...string) map[string][]verdict {
	t.Helper()
	v, err := validation.New(validation.Options{KubernetesVersions: []string{version}, Strict: true, Workers: 2, CRDFiles: crdFiles})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, c := range crds {
		v.AddCRD(c[0], []byte(c[1])) // a CRD that does not convert is its own resource's verdict
	}
	out := map[string][]verdict{}
	for _, s := range streams {
		outcome, err := v.Check(context.Background(), s.resources)
		if err != nil {
			t.Fatal(err)
		}
		results := outcome.Results
		for _, r := range results {
			vd := verdict{kind: r.Resource.Kind, name: r.Resource.Name, status: string(r.Status())}
			for _, c := range r.Checks {
				vd.detail = c.Message
				for _, p := range c.Problems {
					vd.detail += "; " + p.Path + ": " + p.Message
				}
			}
			out[s.name] = append(out[s.name], vd)
		}
	}
	return out
}

// kubeconformVerdicts validates the streams with kubeconform's validator
// against the schemas under roots (-schema-location each, in order).
func kubeconformVerdicts(t *testing.T, version string, streams []stream, roots ...string) map[string][]verdict {
	t.Helper()
	return kubeconformVerdictsWith(newKubeconform(t, version, roots...), streams)
}

// newKubeconform is kubeconform's validator for version, strict, with a
// -schema-location for each of roots, in order.
func newKubeconform(t *testing.T, version string, roots ...string) validator.Validator {
	t.Helper()
	var locations []string
	for _, root := range roots {
		locations = append(locations, filepath.Join(root, schema.LocationTemplate))
	}
	kv, err := validator.New(locations, validator.Opts{KubernetesVersion: version, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// kubeconformVerdictsWith validates the streams with kv, as the
// kubeconform CLI does each file or stdin.
func kubeconformVerdictsWith(kv validator.Validator, streams []stream) map[string][]verdict {
	out := map[string][]verdict{}
	for _, s := range streams {
		for _, r := range kv.Validate(s.name, io.NopCloser(bytes.NewReader(s.data))) {
			if r.Status == validator.Empty {
				continue
			}
			vd := verdict{}
			if sig, err := r.Resource.Signature(); err == nil {
				vd.kind, vd.name = sig.Kind, sig.Name
			}
			switch r.Status {
			case validator.Valid:
				vd.status = "valid"
			case validator.Invalid:
				vd.status = "invalid"
			case validator.Skipped:
				vd.status = "skipped"
			default:
				vd.status = "error"
				if r.Err != nil && strings.Contains(r.Err.Error(), "could not find schema") {
					vd.status = "missing"
				}
			}
			if r.Err != nil {
				vd.detail = r.Err.Error()
			}
			var msgs []string
			for _, e := range r.ValidationErrors {
				msgs = append(msgs, e.Path+": "+e.Msg)
			}
			sort.Strings(msgs)
			if len(msgs) > 0 {
				vd.detail += strings.Join(msgs, "; ")
			}
			out[s.name] = append(out[s.name], vd)
		}
	}
	return out
}
