package chartlint

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/render/chartrepo"
)

// withDependencies returns the directory to lint for the chart in dir
// (rel in the repository) with Options.DependencyUpdate: dir itself when
// there is nothing to fetch, else a temporary copy of it whose charts/
// holds what helm dependency build would put there (the archives
// fetched as validate --dependency-update fetches them, and the file://
// charts, archived), the fetched ones replacing copies of the same
// charts; cleanup removes it. dir is never written. A dependency that
// cannot be fetched is a finding on its line of Chart.yaml (failed names
// it, so that it is not reported as missing too).
func withDependencies(dir, rel string, opts Options) (lintDir string, cleanup func(), fs []finding.Finding, failed map[string]bool, err error) {
	cleanup = func() {}
	ch, err := loader.LoadDir(dir)
	if err != nil {
		return dir, cleanup, nil, nil, nil // helm lint reports it
	}
	var f chartrepo.Fetcher
	res, err := f.Update(context.Background(), dir, ch, opts.DependencyTimeout)
	var de *chartrepo.Error
	switch {
	case errors.As(err, &de):
		src, _ := os.ReadFile(filepath.Join(dir, chartutil.ChartfileName))
		return dir, cleanup, []finding.Finding{{RuleID: RuleChart, Severity: finding.Error,
				File: path.Join(rel, chartutil.ChartfileName), Line: dependencyLine(src, de.Dependency), Message: de.Error()}},
			map[string]bool{de.Dependency: true}, nil
	case err != nil: // Chart.lock out of sync
		return dir, cleanup, []finding.Finding{{RuleID: RuleChart, Severity: finding.Error,
			File: path.Join(rel, "Chart.lock"), Line: 1, Message: err.Error()}}, nil, nil
	case len(res.Replaced) == 0:
		return dir, cleanup, nil, nil, nil
	}

	tmp, err := os.MkdirTemp("", "gitship-lint-chart-")
	if err != nil {
		return "", cleanup, nil, nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	lintDir = filepath.Join(tmp, filepath.Base(dir)) // helm names the chart by its directory in some messages
	if err := copyChart(dir, lintDir, res.Replaced); err != nil {
		cleanup()
		return "", func() {}, nil, nil, err
	}
	charts := filepath.Join(lintDir, "charts")
	if err := os.MkdirAll(charts, 0o755); err != nil {
		cleanup()
		return "", func() {}, nil, nil, err
	}
	fetched := map[string]bool{}
	for _, g := range res.Fetched {
		fetched[g.Name] = true
		if err := os.WriteFile(filepath.Join(charts, g.FileName()), g.Data, 0o644); err != nil {
			cleanup()
			return "", func() {}, nil, nil, err
		}
	}
	// The file:// charts, as helm dependency build archives them.
	for _, d := range ch.Metadata.Dependencies {
		if !res.Replaced[d.Name] || fetched[d.Name] {
			continue
		}
		sub, err := loader.Load(chartrepo.LocalPath(dir, d.Repository))
		if err != nil {
			continue // reported as missing, as without the flag
		}
		if _, err := chartutil.Save(sub, charts); err != nil {
			cleanup()
			return "", func() {}, nil, nil, err
		}
		fetched[d.Name] = true
	}
	return lintDir, cleanup, nil, nil, nil
}

// copyChart copies the chart in src to dst, but for the entries of
// charts/ that hold one of the charts named in replaced.
func copyChart(src, dst string, replaced map[string]bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if filepath.Dir(r) == "charts" && replaced[subchartName(p)] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, r)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		fi, err := os.Stat(p) // a symbolic link to a file is copied as the file, as helm's loader reads it
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		return copyFile(p, target)
	})
}

// subchartName is the name of the chart in charts/ at p, a directory or
// an archive, "" when none can be read.
func subchartName(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		md, err := chartutil.LoadChartfile(filepath.Join(p, chartutil.ChartfileName))
		if err != nil {
			return ""
		}
		return md.Name
	}
	ch, err := loader.LoadFile(p)
	if err != nil {
		return ""
	}
	return ch.Name()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
