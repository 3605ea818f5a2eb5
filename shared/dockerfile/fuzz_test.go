package dockerfile

import (
	"testing"

	"github.com/gitship/gitship/shared/finding"
)

// FuzzLint feeds arbitrary bytes to Lint: it must not panic, and what it
// reports must be well formed.
func FuzzLint(f *testing.F) {
	for _, src := range testdataFiles(f) {
		f.Add(src)
	}
	for _, tc := range ruleCases {
		f.Add([]byte(tc.src))
	}
	known := map[string]finding.Severity{}
	for _, r := range Rules() {
		known[r.ID] = r.Severity
	}
	opts := Options{Targets: []string{"build", "test"}}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, fd := range Lint("Dockerfile", src, opts) {
			if _, ok := known[fd.RuleID]; !ok {
				t.Fatalf("unknown rule %q: %s", fd.RuleID, fd)
			}
			if fd.Line < 0 || fd.Column < 0 || fd.EndLine < 0 {
				t.Fatalf("negative position: %+v", fd)
			}
			if fd.Severity != known[fd.RuleID] {
				t.Fatalf("severity %v, want %v: %s", fd.Severity, known[fd.RuleID], fd)
			}
			if err := checkMessage(fd.Message); err != nil {
				t.Fatal(err)
			}
			if fd.File != "Dockerfile" {
				t.Fatalf("file = %q", fd.File)
			}
		}
	})
}
