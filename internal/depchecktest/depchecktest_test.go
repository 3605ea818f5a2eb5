package depchecktest

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
)

// recorder keeps what Forbid reports instead of failing the real test.
type recorder struct {
	testing.TB
	errors []string
	fatal  string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
}

func TestForbid(t *testing.T) {
	tests := []struct {
		name      string
		forbidden []string
		want      []string
	}{
		// This package imports os/exec, strings and testing.
		{name: "direct import", forbidden: []string{"os/exec"}, want: []string{"depchecktest depends on os/exec"}},
		{name: "import of an import", forbidden: []string{"unicode/utf8"}, want: []string{"depchecktest depends on unicode/utf8"}},
		{name: "two prefixes", forbidden: []string{"strings", "os/exec"}, want: []string{"depchecktest depends on os/exec", "depchecktest depends on strings"}},
		{name: "clean", forbidden: []string{"helm.sh/", "k8s.io/"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			Forbid(r, "depchecktest", []string{"."}, tt.forbidden...)
			if r.fatal != "" {
				t.Fatalf("Forbid: fatal %s", r.fatal)
			}
			sort.Strings(r.errors)
			if !reflect.DeepEqual(r.errors, tt.want) {
				t.Errorf("Forbid(%q) reported %q, want %q", tt.forbidden, r.errors, tt.want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		dep, forbidden string
		want           bool
	}{
		{"helm.sh/helm/v3/pkg/cli", "helm.sh/helm/v3/pkg/cli", true},
		{"helm.sh/helm/v3/pkg/cli/values", "helm.sh/helm/v3/pkg/cli", true},
		{"helm.sh/helm/v3/pkg/cliutil", "helm.sh/helm/v3/pkg/cli", false},
		{"helm.sh/helm/v3/pkg/chart", "helm.sh/", true},
		{"sigs.k8s.io/yaml", "k8s.io/", false},
		{"k8s.io/apimachinery/pkg/util/yaml", "k8s.io/", true},
		{"github.com/docker/docker/client", "github.com/docker/docker/", true},
		{"github.com/docker/go-units", "github.com/docker/docker/", false},
	}
	for _, tt := range tests {
		if got := matches(tt.dep, tt.forbidden); got != tt.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tt.dep, tt.forbidden, got, tt.want)
		}
	}
}

// A pattern go list cannot resolve stops the test: a check that ran on
// nothing must not pass.
func TestForbidBadPackage(t *testing.T) {
	r := &recorder{TB: t}
	Forbid(r, "nothing", []string{"./does-not-exist"}, "helm.sh/")
	if r.fatal == "" {
		t.Errorf("Forbid on a missing package did not fail the test; errors %q", r.errors)
	}
}
