// Command gitship-build builds a Dockerfile's test stage, runs the tests
// inside a container from it, then builds the final image labelled with its
// commit, through the Docker Engine API. Its inputs are declared in
// shared/steps/build.
package main

import (
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/steps/build"
)

func main() { step.Main(build.Step()) }
