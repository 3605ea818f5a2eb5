// Command schemaexport writes every kind that one embedded Kubernetes
// release serves as a standalone JSON Schema file, laid out for
// kubeconform's
//
//	-schema-location 'DIR/{{ .NormalizedKubernetesVersion }}/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}{{ .StrictSuffix }}.json'
//
// so the kubeconform CLI can validate against exactly the schemas
// gitship-validate embeds (bench/validate.sh compares the two):
//
//	go run ./tools/schemaexport -kubernetes-version 1.37.2 -dir bench/out/schemas
//
// writes DIR/v1.37.2/apps/v1/deployment.json and deployment-strict.json,
// DIR/v1.37.2/v1/v1/service.json, and so on; run kubeconform with the same
// -kubernetes-version. -list prints the embedded versions.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitship/gitship/shared/schema"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("schemaexport", flag.ContinueOnError)
	fl.SetOutput(stderr)
	version := fl.String("kubernetes-version", schema.Latest(), "embedded Kubernetes version to export ("+strings.Join(schema.Versions(), ", ")+")")
	dir := fl.String("dir", ".", "schema location root: the files go to DIR/v<version>/...")
	list := fl.Bool("list", false, "print the embedded versions, oldest first, and write nothing")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *list {
		for _, v := range schema.Versions() {
			fmt.Fprintln(stdout, v)
		}
		return 0
	}
	v := strings.TrimPrefix(*version, "v")
	c, err := schema.Lookup(v)
	if err != nil {
		fmt.Fprintf(stderr, "schemaexport: %v\n", err)
		return 2
	}
	n, err := export(c, *dir)
	if err != nil {
		fmt.Fprintf(stderr, "schemaexport: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: Kubernetes %s, %d kinds, %d files\n", filepath.Join(*dir, "v"+v), c.Version(), len(c.Kinds()), n)
	return 0
}

// export writes the strict and the non-strict schema of every kind where
// kubeconform expands schema.LocationTemplate under root.
func export(c *schema.Catalog, root string) (files int, err error) {
	for _, gvk := range c.Kinds() {
		api := gvk.APIVersion()
		for _, strict := range []bool{false, true} {
			doc, ok, err := c.Schema(api, gvk.Kind, strict)
			if err != nil {
				return files, err
			}
			if !ok {
				return files, fmt.Errorf("%s %s: listed but has no schema", api, gvk.Kind)
			}
			p := schema.LocationPath(root, c.Version(), api, gvk.Kind, strict)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return files, err
			}
			if err := os.WriteFile(p, doc, 0o644); err != nil {
				return files, err
			}
			files++
		}
	}
	return files, nil
}
