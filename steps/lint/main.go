// Command gitship-lint lints Dockerfiles, Helm charts and YAML: the first
// step of a gitship PR pipeline. Its inputs are declared in shared/steps/lint.
package main

import (
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/steps/lint"
)

func main() { step.Main(lint.Step()) }
