// Command gitship-build builds a Dockerfile's test stage, runs the tests
// inside a container from it, then builds the final image labelled with its
// commit, through the Docker Engine API. Its inputs are declared in
// shared/build.
package main

import (
	"github.com/gitship/gitship/shared/build"
	"github.com/gitship/gitship/shared/step"
)

func main() { step.Main(build.Step()) }
