// Command gitship-publish pushes the built image to a registry under its
// commit's tags, or promotes a published image by digest, with
// go-containerregistry and no Docker daemon. Its inputs are declared in
// shared/steps/publish.
package main

import (
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/steps/publish"
)

func main() { step.Main(publish.Step()) }
