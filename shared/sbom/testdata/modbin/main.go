// Command modbin is a Go binary with modules for the SBOM tests to find:
// go-containerregistry and its dependencies, at the main module's versions.
package main

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func main() { fmt.Println(v1.Hash{Algorithm: "sha256"}) }
