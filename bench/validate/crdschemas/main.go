// Command crdschemas writes the schemas of CustomResourceDefinitions as
// standalone JSON Schema files for the kubeconform CLI, converted the way
// gitship-validate converts --crd files (shared/schema.FromCRD), laid out
// like tools/schemaexport's built-in schemas:
//
//	go run ./bench/validate/crdschemas -kubernetes-version 1.37.2 -dir DIR CRD_FILE_OR_DIR...
//
// writes DIR/v1.37.2/GROUP/VERSION/KIND.json and KIND-strict.json for each
// served version, so kubeconform validates custom resources against the
// same schemas as gitship-validate (bench/validate.sh's CRD case). It is
// what openapi2jsonschema.py does for kubeconform users.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gitship/gitship/shared/render"
	"github.com/gitship/gitship/shared/schema"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("crdschemas", flag.ContinueOnError)
	fl.SetOutput(stderr)
	version := fl.String("kubernetes-version", schema.Latest(), "Kubernetes version the files are laid out for")
	dir := fl.String("dir", ".", "schema location root")
	if err := fl.Parse(args); err != nil || fl.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: crdschemas [-kubernetes-version V] [-dir DIR] CRD_FILE_OR_DIR...")
		return 2
	}
	rs, err := render.ReadManifests(fl.Args(), nil)
	if err != nil {
		fmt.Fprintf(stderr, "crdschemas: %v\n", err)
		return 2
	}
	files := 0
	for _, r := range rs {
		if !schema.IsCRD(r.APIVersion, r.Kind) {
			continue
		}
		for _, strict := range []bool{false, true} {
			vs, err := schema.FromCRD(r.Source, r.Data, strict)
			if err != nil {
				fmt.Fprintf(stderr, "crdschemas: %v\n", err)
				return 1
			}
			for _, v := range vs {
				if !v.Served {
					continue
				}
				p := schema.LocationPath(*dir, *version, v.Group+"/"+v.Version, v.Kind, strict)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					fmt.Fprintf(stderr, "crdschemas: %v\n", err)
					return 1
				}
				if err := os.WriteFile(p, v.Schema, 0o644); err != nil {
					fmt.Fprintf(stderr, "crdschemas: %v\n", err)
					return 1
				}
				files++
			}
		}
	}
	fmt.Fprintf(stdout, "%s: %d schema files\n", *dir, files)
	return 0
}
