// Package depchecktest is a test helper: it fails a test when a package
// links a library it must stay free of, the way go-containerregistry's
// cmd/crane/depcheck_test.go keeps the daemon package out of crane. Each
// package's depcheck_test.go calls it with its own packages and prefixes.
package depchecktest

import (
	"os/exec"
	"strings"
	"testing"
)

// Forbid lists the dependencies of pkgs (go list -deps, patterns relative
// to the test's directory) and reports, as one t.Errorf each, every one
// that is forbidden; what names the code under test in the message
// ("gitship-build depends on helm.sh/..."). A forbidden entry ending in
// "/" is a prefix ("k8s.io/": every package of every module under it);
// any other names a package and the packages under it, so
// "helm.sh/helm/v3/pkg/cli" forbids pkg/cli/values but not pkg/cliutil.
func Forbid(t testing.TB, what string, pkgs []string, forbidden ...string) {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if matches(dep, f) {
				t.Errorf("%s depends on %s", what, dep)
			}
		}
	}
}

func matches(dep, forbidden string) bool {
	if strings.HasSuffix(forbidden, "/") {
		return strings.HasPrefix(dep, forbidden)
	}
	return dep == forbidden || strings.HasPrefix(dep, forbidden+"/")
}
