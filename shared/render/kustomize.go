package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitship/gitship/shared/yamlcheck"
)

// RenderKustomize builds the kustomization in dir like `kustomize build`
// (the same order; plugins and Helm chart inflation off; each
// kustomization reads files only from its own directory). Every resource's
// Source is the kustomization file.
func RenderKustomize(ctx context.Context, dir string) ([]Resource, error) {
	kfile, err := kustomizationFile(dir)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified // kustomize build's default: legacy order unless sortOptions
	g := &guardedFS{FileSystem: filesys.MakeFsOnDisk()}
	m, err := krusty.MakeKustomizer(opts).Run(g, dir)
	if err != nil {
		// kustomize takes any error reading a kustomization file for
		// its absence ("unable to find one of 'kustomization.yaml'..."):
		// the file the guard refused, and why, is the error to show.
		if refused := g.refused(); refused != nil {
			err = refused
		}
		return nil, fmt.Errorf("kustomize %q: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize %q: %w", dir, err)
	}
	src := filepath.ToSlash(kfile)
	rs, err := Split("kustomize "+filepath.ToSlash(filepath.Clean(dir)), src, out)
	if err != nil {
		return nil, fmt.Errorf("kustomize %q: %w", dir, err)
	}
	for i := range rs {
		rs[i].Line = 0 // rendered, not the kustomization's lines
	}
	return rs, nil
}

func kustomizationFile(dir string) (string, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", asInput(fmt.Errorf("kustomization directory %q does not exist", dir))
	case err != nil:
		return "", asInput(fmt.Errorf("kustomization directory %q: %w", dir, err))
	case !fi.IsDir():
		return "", asInput(fmt.Errorf("kustomization %q is not a directory", dir))
	}
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", asInput(fmt.Errorf("%q has no kustomization.yaml", dir))
}

// guardedFS refuses files before kustomize reads them whole: too large ones,
// YAML whose aliases expand without bound, which kyaml would expand, and
// kustomization files that are not a valid Kustomization, so that the error
// names the file and the line. It keeps the first refusal: kustomize hides
// a failed read of a kustomization file behind "unable to find one of".
type guardedFS struct {
	filesys.FileSystem
	mu    sync.Mutex
	first error
}

func (g *guardedFS) ReadFile(path string) ([]byte, error) {
	var data []byte
	err := tooLarge(path)
	if err == nil {
		if data, err = g.FileSystem.ReadFile(path); err != nil {
			return nil, err // not a refusal: kustomize says what it looked for
		}
		err = refuse(path, data)
	}
	if err != nil {
		g.mu.Lock()
		if g.first == nil {
			g.first = err
		}
		g.mu.Unlock()
		return nil, err
	}
	return data, nil
}

// tooLarge refuses a file before it is read into memory.
func tooLarge(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > MaxFileSize {
		return fmt.Errorf("%s is larger than the %d MiB limit", shown(path), MaxFileSize>>20)
	}
	return nil
}

func (g *guardedFS) refused() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.first
}

// refuse says why kustomize must not parse a file it read.
func refuse(path string, data []byte) error {
	if err := checkAliases(shown(path), data); err != nil {
		return err
	}
	if slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path)) {
		return checkKustomization(shown(path), data)
	}
	return nil
}

// checkKustomization parses a kustomization file as kustomize does, to name
// the file with its problem: the YAML syntax error and its line, or the
// field kustomize does not know.
func checkKustomization(name string, data []byte) error {
	// The syntax as lint reports it, on the same line; kustomize
	// tolerates duplicate keys, so they are left to lint.
	for _, f := range yamlcheck.Check(name, data) {
		if f.RuleID != yamlcheck.RuleDuplicate {
			return fmt.Errorf("%s:%d:%d: %s", name, f.Line, f.Column, f.Message)
		}
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// shown is path as a message shows it: relative to the working directory
// (the workspace) when it is inside it; kustomize hands absolute paths.
func shown(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return path
}
