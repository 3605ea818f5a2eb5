// Command schemagen writes the Kubernetes schema catalog that package
// shared/schema embeds: the OpenAPI definitions compiled into one
// k8s.io/kubernetes release, cleaned to JSON Schema fragments, and the kinds
// its API serves. It is its own module so that k8s.io/kubernetes never enters
// the main module; each release has a modfile (go.1.NN.mod, see modfile.sh):
//
//	go run -modfile=go.1.35.mod . -dir ../../shared/schema/data
//
// The release is the k8s.io/kubernetes version the binary was built with. It
// writes the release's index, data/v1.NN.json.gz, and merges its definitions
// into the store every release shares, data/definitions.json.gz (see
// write.go); both are byte-identical from run to run.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("schemagen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("dir", ".", "directory holding v1.NN.json.gz and definitions.json.gz")
	swagger := fl.String("swagger", "", "the release's api/openapi-spec/swagger.json (default: from the module cache)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	version, err := kubernetesVersion()
	if err != nil {
		fmt.Fprintf(stderr, "schemagen: %v\n", err)
		return 1
	}
	if *swagger == "" {
		if *swagger, err = swaggerPath(version); err != nil {
			fmt.Fprintf(stderr, "schemagen: %v\n", err)
			return 1
		}
	}
	c, err := build(version, *swagger)
	if err != nil {
		fmt.Fprintf(stderr, "schemagen: %v\n", err)
		return 1
	}
	path, indexSize, storeSize, err := write(*dir, c)
	if err != nil {
		fmt.Fprintf(stderr, "schemagen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: Kubernetes %s, %d kinds, %d definitions, %d bytes; %s: %d bytes\n",
		path, c.Version, len(c.Kinds), len(c.Definitions), indexSize, storeName, storeSize)
	return 0
}

// kubernetesVersion reads the release from the build, so the modfile alone
// decides it and the output cannot claim a version it was not built from.
func kubernetesVersion() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", fmt.Errorf("no build information")
	}
	for _, d := range bi.Deps {
		if d.Path == "k8s.io/kubernetes" {
			return strings.TrimPrefix(d.Version, "v"), nil
		}
	}
	return "", fmt.Errorf("k8s.io/kubernetes is not a dependency of this build")
}
