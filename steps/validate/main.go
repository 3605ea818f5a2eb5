// Command gitship-validate renders Helm charts, Kustomize directories and
// manifests and validates them against the Kubernetes schemas, offline: the
// last check of a gitship PR pipeline. Its inputs are declared in
// shared/steps/validate.
package main

import (
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/steps/validate"
)

func main() { step.Main(validate.Step()) }
