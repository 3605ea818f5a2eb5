// Command release makes everything a gitship release ships, into one
// folder (make release VERSION=x.y.z; see docs/release.md):
//
//	dist/images/gitship-<step>/        OCI layouts, one multi-platform index each (tools/imagegen)
//	dist/images.txt                    each image as <image-repo>/gitship-<step>@<index digest>
//	dist/actions/                      action.yml and steps/<step>/action.yml, images pinned by digest
//	dist/assets/gitship-<step>-<os>-<arch>[.exe]  the binaries, as the GitHub release's assets
//	dist/assets/SHA256SUMS             their checksums, for the release too
//	dist/gitship-<version>.vsix        the Azure extension: its tasks download their binary from the assets
//	dist/gitship-<version>-bundled.vsix  with -bundled: every task with every platform's binary
//	dist/SHA256SUMS                    of all of the above but the layouts (content-addressed already)
//
// The wrappers come from go run ./tools/wrappergen -release, the images
// from go run ./tools/imagegen, the VSIX from tfx (npm's tfx-cli): tfx on
// PATH, else npx tfx-cli@0.23.1. The repository is only read.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("release", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o Options
	fl.StringVar(&o.Root, "root", ".", "repository root")
	fl.StringVar(&o.Version, "version", "", "the release, MAJOR.MINOR.PATCH (required)")
	fl.StringVar(&o.Out, "out", "dist", "where everything goes")
	fl.StringVar(&o.ImageRepo, "image-repo", "ghcr.io/gitship", "where the images are pushed: <image-repo>/gitship-<step>")
	steps := fl.String("steps", "", "steps to release, comma-separated (default every steps/<step>/main.go)")
	platforms := fl.String("platforms", strings.Join(DefaultPlatforms, ","), "platforms of the binaries and the VSIX, comma-separated os/arch")
	fl.BoolVar(&o.Bundled, "bundled", false, "also pack gitship-<version>-bundled.vsix, every task with its binaries, for agents that cannot download (large)")
	tfx := fl.String("tfx", "", "the tfx command, words separated by spaces (default tfx on PATH, else "+strings.Join(npxTFX, " ")+")")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "release: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if o.Version == "" {
		fmt.Fprintln(stderr, "release: -version is required, e.g. -version 0.1.0")
		return 2
	}
	if *steps != "" {
		o.Steps = strings.Split(*steps, ",")
	}
	o.Platforms = strings.Split(*platforms, ",")
	if *tfx != "" {
		o.TFX = strings.Fields(*tfx)
	}
	res, err := Run(ctx, o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "release: %v\n", err)
		return 1
	}
	res.Summary(stdout)
	return 0
}
