package dockerfile

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLint lints every golden Dockerfile once per iteration; the
// files/s metric is what bench/lint.sh reports for the whole binary.
func BenchmarkLint(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.Dockerfile"))
	var srcs [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, data)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, src := range srcs {
			Lint("Dockerfile", src, Options{})
		}
	}
	b.ReportMetric(float64(b.N*len(srcs))/b.Elapsed().Seconds(), "files/s")
}
