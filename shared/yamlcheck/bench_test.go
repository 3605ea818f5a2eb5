package yamlcheck

import (
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkCheck(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "values.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		Check("values.yaml", src)
	}
}
