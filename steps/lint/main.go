// Command gitship-lint lints Dockerfiles, Helm charts and YAML: the first
// step of a gitship PR pipeline. Its inputs are declared in shared/lint.
package main

import (
	"github.com/gitship/gitship/shared/lint"
	"github.com/gitship/gitship/shared/step"
)

func main() { step.Main(lint.Step()) }
