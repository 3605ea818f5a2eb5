// Command gitship-gitops-pr renders the app for one environment, pins the
// published image by digest, validates, commits the manifests to the
// GitOps repository and opens or updates the pull request. Its inputs are
// declared in shared/steps/gitopspr.
package main

import (
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/steps/gitopspr"
)

func main() { step.Main(gitopspr.Step()) }
