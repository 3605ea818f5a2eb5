// Command wrappergen writes the CI wrappers of every gitship step from its
// declaration: steps/<step>/action.yml, the root action.yml, the Azure
// task folders and extension manifest, and docs/steps/<step>.md.
//
//	go run ./tools/wrappergen          # write them
//	go run ./tools/wrappergen -check   # exit 1 listing what is out of date
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("wrappergen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	root := fl.String("root", ".", "repository root")
	check := fl.Bool("check", false, "write nothing; exit 1 listing the files that differ from what would be written")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "wrappergen: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	files, err := Generate(*root, Steps())
	if err != nil {
		fmt.Fprintf(stderr, "wrappergen: %v\n", err)
		return 1
	}
	if *check {
		stale, err := Diff(*root, files)
		if err != nil {
			fmt.Fprintf(stderr, "wrappergen: %v\n", err)
			return 1
		}
		if len(stale) > 0 {
			fmt.Fprintln(stderr, "wrappergen: out of date (run go run ./tools/wrappergen):")
			for _, f := range stale {
				fmt.Fprintln(stderr, "  "+f)
			}
			return 1
		}
		return 0
	}
	if err := Write(*root, files); err != nil {
		fmt.Fprintf(stderr, "wrappergen: %v\n", err)
		return 1
	}
	for _, f := range files {
		fmt.Fprintln(stdout, f.Path)
	}
	stale, err := Diff(*root, files)
	if err != nil {
		fmt.Fprintf(stderr, "wrappergen: %v\n", err)
		return 1
	}
	for _, f := range stale {
		fmt.Fprintf(stderr, "wrappergen: %s: delete it by hand\n", f)
	}
	return 0
}
