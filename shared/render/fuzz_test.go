package render

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzSplit checks that no input panics the splitter, and that what it
// returns holds what Resource promises.
func FuzzSplit(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\ufeff---\r\napiVersion: v1\r\nkind: List\r\nitems:\r\n- {apiVersion: v1, kind: A}\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Split("fuzz", "f.yaml", data)
		if err != nil {
			return
		}
		for i, r := range rs {
			if r.Kind == "" || r.APIVersion == "" || r.Index != i || r.Line < 0 || len(r.Data) == 0 {
				t.Fatalf("resource %d = %+v", i, r)
			}
		}
	})
}
