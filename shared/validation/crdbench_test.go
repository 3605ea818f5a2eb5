package validation

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gitship/gitship/shared/render"
)

// bigCRD writes a CustomResourceDefinition of about size bytes, shaped
// like an operator's (prometheus-operator's run to 1 MB): two versions,
// deep object schemas whose text is mostly descriptions.
func bigCRD(kind string, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %ss.bench.example.com
spec:
  group: bench.example.com
  names:
    kind: %s
    plural: %ss
  scope: Namespaced
  versions:
`, strings.ToLower(kind), kind, strings.ToLower(kind))
	desc := strings.Repeat("Describes this field at length, as generated API documentation does. ", 3)
	for _, version := range []string{"v1", "v1alpha1"} {
		fmt.Fprintf(&b, `    - name: %s
      served: true
      storage: %t
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
`, version, version == "v1")
		end := size / 2 // each version half
		if version != "v1" {
			end = size
		}
		for i := 0; b.Len() < end; i++ {
			fmt.Fprintf(&b, `                field%d:
                  description: %s
                  type: object
                  properties:
`, i, desc)
			for j := range 8 {
				fmt.Fprintf(&b, `                    sub%d:
                      description: %s
                      type: array
                      items:
                        type: object
                        required: [name]
                        properties:
                          name: {type: string, description: %q}
                          value: {type: integer, format: int32, minimum: 0}
                          mode: {type: string, enum: [A, B, C]}
`, j, desc, desc)
			}
		}
	}
	return b.String()
}

// BenchmarkCheckCRDs is a run of a CRD-heavy chart: ten CRDs of 450 kB
// each given with --crd (4.5 MB, kube-prometheus-stack's size), a few
// dozen built-in resources and custom resources of one of the ten kinds.
// Each iteration is a whole run: a fresh Validator, as each process has.
func BenchmarkCheckCRDs(b *testing.B) {
	dir := b.TempDir()
	var files []string
	for i := range 10 {
		f := filepath.Join(dir, fmt.Sprintf("crd%d.yaml", i))
		if err := os.WriteFile(f, []byte(bigCRD(fmt.Sprintf("Kind%d", i), 450_000)), 0o644); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	var rs []render.Resource
	for i := range 30 {
		r, err := render.Split("bench", "cm.yaml", fmt.Appendf(nil, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\ndata: {k: v}\n", i))
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, r...)
	}
	for i := range 4 {
		r, err := render.Split("bench", "cr.yaml", fmt.Appendf(nil, "apiVersion: bench.example.com/v1\nkind: Kind%d\nmetadata: {name: c%d}\nspec:\n  field1:\n    sub2:\n      - {name: a, value: 3, mode: B}\n", i%4, i))
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, r...)
	}
	// "converted" is a first run, "cached" one after it with --schema-cache;
	// "rendered" has the CRDs among the resources, as a chart's crds/ are,
	// each converted by the worker that checks it.
	cache := b.TempDir()
	b.Run("converted", func(b *testing.B) { benchCheck(b, rs, Options{Strict: true, CRDFiles: files}) })
	b.Run("cached", func(b *testing.B) { benchCheck(b, rs, Options{Strict: true, CRDFiles: files, CRDCache: cache}) })
	var rendered []render.Resource
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		r, err := render.Split("bench", f, data)
		if err != nil {
			b.Fatal(err)
		}
		rendered = append(rendered, r...)
	}
	rendered = append(rendered, rs...)
	b.Run("rendered", func(b *testing.B) { benchCheck(b, rendered, Options{Strict: true}) })
}

func benchCheck(b *testing.B, rs []render.Resource, opts Options) {
	// CPU time too: on a shared machine the wall clock says more about
	// the neighbours than about the code.
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		v, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		out, err := v.Check(context.Background(), rs)
		if err != nil || out.Totals().Valid != len(rs) {
			b.Fatalf("Check() = %v, %+v", err, out.Totals())
		}
		v.Close()
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}
