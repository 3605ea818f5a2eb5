package kubeoptions

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/gitship/gitship/shared/schema"
	"github.com/gitship/gitship/shared/step"
)

// TestKubernetesVersionFallback runs the validation flags as a step does:
// an embedded minor with another patch passes with a note, a version
// outside the range is a usage error naming the range unless
// --kubernetes-version-fallback nearest, which puts the nearest embedded
// release in its place with a warning.
func TestKubernetesVersionFallback(t *testing.T) {
	vs := schema.Versions()
	oldest, newest := vs[0], vs[len(vs)-1]
	minor := func(v string) string { return v[:strings.LastIndex(v, ".")] }
	tests := []struct {
		name     string
		args     []string
		versions []string // Options().KubernetesVersions; nil: a usage error
		log      string   // in what the flags print
	}{
		{name: "default", versions: []string{newest}},
		{name: "minor", args: []string{"--kubernetes-version", minor(oldest)}, versions: []string{minor(oldest)}},
		{name: "other patch", args: []string{"--kubernetes-version", minor(oldest) + ".0"}, versions: []string{minor(oldest) + ".0"},
			log: "note: Kubernetes " + minor(oldest) + ".0: validating against " + oldest},
		{name: "newer", args: []string{"--kubernetes-version", "1.99.0"},
			log: "--kubernetes-version: kubernetes version \"1.99.0\": no schemas for this Kubernetes version (embedded: " + minor(oldest) + " to " + minor(newest)},
		{name: "newer, nearest", args: []string{"--kubernetes-version", "1.99.0," + newest + ",1.98", "--kubernetes-version-fallback", "nearest"},
			versions: []string{newest}, log: "warning: Kubernetes 1.99.0: no embedded schemas, using the nearest embedded release, " + newest},
		{name: "older, nearest", args: []string{"--kubernetes-version", "1.20.3", "--kubernetes-version-fallback", "nearest"},
			versions: []string{oldest}, log: "warning: Kubernetes 1.20.3: no embedded schemas, using the nearest embedded release, " + oldest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &ValidationFlags{}
			var log bytes.Buffer
			var got []string
			app := &cli.App{Flags: v.Flags(), ErrWriter: &log, DisableSliceFlagSeparator: true,
				Action: func(*cli.Context) error { got = v.Options().KubernetesVersions; return nil }}
			err := app.Run(append([]string{"test"}, tt.args...))
			if tt.versions == nil {
				if code := step.ExitCode(err); code != step.ExitUsage || !strings.Contains(err.Error(), tt.log) {
					t.Fatalf("Run() = %v (exit %d), want a usage error with %q", err, code, tt.log)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.versions) {
				t.Fatalf("Run() = %v, versions %q; want %q", err, got, tt.versions)
			}
			if !strings.Contains(log.String(), tt.log) || (tt.log == "" && log.Len() > 0) {
				t.Errorf("printed %q, want %q", log.String(), tt.log)
			}
		})
	}
}
