// Command gitship-verify waits until the cluster runs the GitOps commit
// (Flux, Argo CD, a Deployment's rollout) and the application answers.
// Its inputs are declared in shared/steps/verify.
package main

import (
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/steps/verify"
)

func main() { step.Main(verify.Step()) }
