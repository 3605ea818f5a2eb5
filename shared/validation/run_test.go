package validation

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"

	"github.com/gitship/gitship/shared/render"
)

// runCases are documents of kinds with schemas gitship embeds, and one of
// a CRD's, valid and not in the ways the schemas check: types, unknown
// fields (strict), required fields, enums, formats (int-or-string,
// quantities, durations in a CRD), YAML 1.1 values.
var runCases = []string{
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: 1\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: yes\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labelz: {}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {x: 1.5}}\n",
	"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n    targetPort: http\n  - port: 81.5\n    targetPort: 8080\n",
	"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  type: Nowhere\n  ports: [{port: 9007199254740993}]\n",
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec:\n      containers:\n      - name: c\n        image: i\n        resources: {limits: {cpu: 500m, memory: 1Gi}, requests: {cpu: 0.5}}\n",
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: '2'\n  selector: {matchLabels: {app: d}}\n  template:\n    spec:\n      containers:\n      - name: c\n        imagePullPolicy: Sometimes\n        resources: {limits: {cpu: lots}}\n",
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers: []\n  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1.5}}\n",
	"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: i, command: [sh, -c, 'true']}]\n      activeDeadlineSeconds: -0.0\n",
	"apiVersion: example.com/v1\nkind: Timer\nmetadata:\n  name: t\nspec:\n  every: 1h30m\n",
	"apiVersion: example.com/v1\nkind: Timer\nmetadata:\n  name: t\nspec:\n  every: PT1H30M\n",
	"apiVersion: example.com/v1\nkind: Timer\nmetadata:\n  name: t\nspec:\n  every: P\n",
	"apiVersion: example.com/v1\nkind: Timer\nmetadata:\n  name: t\nspec:\n  every: soon\n  extra: 1\n",
}

const timerCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: timers.example.com
spec:
  group: example.com
  names: {kind: Timer, plural: timers}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              every: {type: string, format: duration}
`

// TestRunAsKubeconform: the verdict and kubeconform's wording of it (its
// status, error and first-level errors) are kubeconform's own, the
// library's ValidateResource on the same document and schema.
func TestRunAsKubeconform(t *testing.T) {
	v := newRunValidator(t)
	for i, doc := range runCases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got, ve := compareRun(t, v, []byte(doc)); got.Status == validator.Invalid && ve == nil {
				t.Errorf("run(%q): invalid, without the validation's error to explain", doc)
			}
		})
	}
}

func newRunValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := New(Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if _, err := v.AddCRD("timer.yaml", []byte(timerCRD)); err != nil {
		t.Fatal(err)
	}
	return v
}

// compareRun checks run on doc against kubeconform's ValidateResource,
// when doc is a resource gitship has a schema for, and returns run's result.
func compareRun(t *testing.T, v *Validator, doc []byte) (validator.Result, *jsonschema.ValidationError) {
	t.Helper()
	rs, err := render.Split("s", "f.yaml", doc)
	if err != nil || len(rs) != 1 {
		return validator.Result{}, nil
	}
	r := rs[0]
	k := v.opts.KubernetesVersions[0]
	schemaDoc, _, err := v.store.prepare(k, r.APIVersion, r.Kind)
	if err != nil || schemaDoc == nil {
		return validator.Result{}, nil
	}
	got, ve := v.run(k, r, schemaDoc)
	want := v.validators[k].ValidateResource(resource.Resource{Path: r.Source, Bytes: r.Data})
	if got.Status != want.Status || unordered(fmt.Sprint(got.Err)) != unordered(fmt.Sprint(want.Err)) || !sameErrors(got.ValidationErrors, want.ValidationErrors) {
		t.Fatalf("run(%q) = %v %v %+v\nkubeconform:    %v %v %+v", doc, got.Status, got.Err, got.ValidationErrors, want.Status, want.Err, want.ValidationErrors)
	}
	return got, ve
}

func sameErrors(a, b []validator.ValidationError) bool {
	key := func(es []validator.ValidationError) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Path+": "+unordered(e.Msg))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

var errorPart = regexp.MustCompile(`\s+- at `)

var propertyList = regexp.MustCompile(`'(?:[^'\\]|\\.)*'(?:, '(?:[^'\\]|\\.)*')+`)

// unordered sorts the lists of properties in an error message, and its
// " - at" parts: the library lists them in a map's order, which changes
// from run to run.
func unordered(msg string) string {
	msg = propertyList.ReplaceAllStringFunc(msg, func(list string) string {
		items := strings.Split(list, ", ")
		slices.Sort(items)
		return strings.Join(items, ", ")
	})
	parts := errorPart.Split(msg, -1)
	slices.Sort(parts[1:])
	return strings.Join(parts, " - at ")
}

// FuzzRunAsKubeconform is TestRunAsKubeconform on any document.
func FuzzRunAsKubeconform(f *testing.F) {
	for _, doc := range runCases {
		f.Add([]byte(doc))
	}
	for _, tt := range decodeCases {
		f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  " + tt.doc))
	}
	v := newRunValidator(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		compareRun(t, v, doc)
	})
}

// TestKubeconformGetsTheSchemaFile: a document decode leaves to kubeconform
// (two keys that read the same, which JSON keeps one of) is judged against
// the schema file written for it then, not reported without a schema.
func TestKubeconformGetsTheSchemaFile(t *testing.T) {
	v := newRunValidator(t)
	for _, tt := range []struct {
		doc  string
		want validator.Status
	}{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  1: a\n  \"1\": b\n", validator.Valid},
		{"apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  1: a\n  \"1\": b\nunknown: x\n", validator.Invalid},
	} {
		rs, err := render.Split("s", "f.yaml", []byte(tt.doc))
		if err != nil {
			t.Fatal(err)
		}
		k := v.opts.KubernetesVersions[0]
		schemaDoc, _, err := v.store.prepare(k, rs[0].APIVersion, rs[0].Kind)
		if err != nil || schemaDoc == nil {
			t.Fatalf("prepare(%s) = %v, %v", rs[0].Kind, schemaDoc != nil, err)
		}
		if _, ok := decode(rs[0].Data, true); ok {
			t.Fatalf("decode(%q) read it: the test needs a document it leaves to kubeconform", tt.doc)
		}
		if got, _ := v.run(k, rs[0], schemaDoc); got.Status != tt.want {
			t.Errorf("run(%q) = %v %v, want %v", tt.doc, got.Status, got.Err, tt.want)
		}
	}
}
