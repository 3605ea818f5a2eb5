package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
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
	m, err := krusty.MakeKustomizer(opts).Run(guardedFS{filesys.MakeFsOnDisk()}, dir)
	if err != nil {
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
// and YAML whose aliases expand without bound, which kyaml would expand.
type guardedFS struct{ filesys.FileSystem }

func (g guardedFS) ReadFile(path string) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than the %d MiB limit", path, MaxFileSize>>20)
	}
	data, err := g.FileSystem.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := checkAliases(path, data); err != nil {
		return nil, err
	}
	return data, nil
}
