// Command wrappergen writes the CI wrappers of every gitship step from its
// declaration: steps/<step>/action.yml, the root action.yml, the Azure
// task folders and extension manifest, and docs/steps/<step>.md.
//
//	go run ./tools/wrappergen          # write them
//	go run ./tools/wrappergen -check   # exit 1 listing what is out of date
//
// The committed wrappers use moving tags (the image :v0, the actions @v0).
// A release's are written elsewhere, with every image pinned by the digest
// of the layout tools/imagegen wrote and the release's versions on the
// Azure tasks and extension (see docs/release.md):
//
//	go run ./tools/wrappergen -release 1.2.3 -image-digests dist/images -out dist/wrappers
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/wrapper"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("wrappergen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	root := fl.String("root", ".", "repository root")
	check := fl.Bool("check", false, "write nothing; exit 1 listing the files that differ from what would be written")
	release := fl.String("release", "", "write a release's wrappers, version MAJOR.MINOR.PATCH, to -out: images pinned by digest, the release's task and extension versions")
	out := fl.String("out", "", "with -release: the folder the release's wrappers go to (never the repository)")
	digests := fl.String("image-digests", "", "with -release: read each image's digest from the OCI layouts here, <dir>/gitship-<step>/index.json")
	imageRepo := fl.String("image-repo", wrapper.Registry, "with -release: where the images are pushed; an image is <image-repo>/gitship-<step>@<digest>")
	only := fl.String("steps", "", "with -release: only these steps, comma-separated")
	images := map[string]string{}
	fl.Func("image", "with -release: `step=repository@sha256:digest`, a step's image (repeatable; over -image-digests)", func(v string) error {
		s, ref, ok := strings.Cut(v, "=")
		if !ok || s == "" || ref == "" {
			return fmt.Errorf("want step=repository@sha256:digest")
		}
		images[s] = ref
		return nil
	})
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "wrappergen: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if *release != "" || *out != "" || *digests != "" || *only != "" || len(images) > 0 {
		return runRelease(releaseArgs{root: *root, check: *check, version: *release, out: *out, digests: *digests,
			imageRepo: *imageRepo, steps: *only, images: images}, stdout, stderr)
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

type releaseArgs struct {
	root, version, out, digests, imageRepo, steps string
	check                                         bool
	images                                        map[string]string
}

// runRelease writes a release's wrappers to a.out.
func runRelease(a releaseArgs, stdout, stderr io.Writer) int {
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "wrappergen: "+msg)
		return 2
	}
	switch {
	case a.version == "":
		return usage("-out, -image-digests, -image and -steps go with -release")
	case a.check:
		return usage("-check checks the committed wrappers; a release's are written, not checked")
	case a.out == "":
		return usage("-release needs -out: a release's wrappers never overwrite the committed ones")
	}
	if same, err := sameDir(a.root, a.out); err != nil {
		fmt.Fprintf(stderr, "wrappergen: %v\n", err)
		return 1
	} else if same {
		return usage("-out is the repository root: a release's wrappers never overwrite the committed ones")
	}
	steps := Steps()
	if a.steps != "" {
		var picked []step.Step
		for _, n := range strings.Split(a.steps, ",") {
			i := slices.IndexFunc(steps, func(s step.Step) bool { return s.Name == n })
			if i < 0 {
				return usage(fmt.Sprintf("-steps: no step %q", n))
			}
			picked = append(picked, steps[i])
		}
		steps = picked
	}
	r := Release{Version: a.version, Images: map[string]string{}}
	if a.digests != "" {
		var need []step.Step
		for _, s := range steps {
			if _, ok := a.images[s.Name]; !ok {
				need = append(need, s)
			}
		}
		found, err := ImageDigests(a.digests, a.imageRepo, need)
		if err != nil {
			fmt.Fprintf(stderr, "wrappergen: %v\n", err)
			return 1
		}
		for s, ref := range found {
			r.Images[s] = ref
		}
	}
	for s, ref := range a.images {
		if !slices.ContainsFunc(steps, func(st step.Step) bool { return st.Name == s }) {
			return usage(fmt.Sprintf("-image: no step %q", s))
		}
		r.Images[s] = ref
	}
	files, err := GenerateRelease(a.root, steps, r)
	if err != nil {
		fmt.Fprintf(stderr, "wrappergen: %v\n", err)
		return 1
	}
	if err := Write(a.out, files); err != nil {
		fmt.Fprintf(stderr, "wrappergen: %v\n", err)
		return 1
	}
	for _, f := range files {
		fmt.Fprintln(stdout, filepath.Join(a.out, filepath.FromSlash(f.Path)))
	}
	return 0
}

// sameDir reports whether two paths are one folder; out need not exist.
func sameDir(a, b string) (bool, error) {
	ai, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	bi, err := os.Stat(b)
	if err != nil {
		return false, nil
	}
	return os.SameFile(ai, bi), nil
}
