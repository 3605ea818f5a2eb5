package render

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/strvals"
)

// Chart is a Helm chart on disk and how to render it.
type Chart struct {
	Dir         string   // the chart directory
	Values      []string // values files; a later one overrides an earlier one
	Set         []string // --set values, applied after the files
	ReleaseName string   // default "release-name", as helm template
	Namespace   string   // default "default"
	KubeVersion string   // .Capabilities.KubeVersion, e.g. "1.31.0"; default Helm's
	SkipTests   bool     // drop test hooks
}

// RenderChart renders c like `helm template --include-crds`, in process and
// without a cluster: CRDs from crds/ directories, then the manifests in
// Helm's install order, then hooks. NOTES.txt is left out. Each resource's
// Source is the template (or CRD file) it came from.
func RenderChart(ctx context.Context, c Chart) ([]Resource, error) {
	ch, vals, kube, err := c.load()
	if err != nil {
		return nil, err
	}
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	inst.ClientOnly = true
	inst.DryRun = true
	inst.DryRunOption = "true" // what helm template sets: never contact a cluster
	inst.Replace = true
	inst.IncludeCRDs = true
	inst.ReleaseName = cmp.Or(c.ReleaseName, "release-name")
	inst.Namespace = cmp.Or(c.Namespace, "default")
	inst.KubeVersion = kube
	sources := newChartSources(c.Dir, ch.Name())
	rel, err := inst.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("render chart %q: %w", c.Dir, templateError{err, sources, ch.Name()})
	}

	var out []Resource
	add := func(name, content string) error {
		src, verbatim := sources.file(name)
		if !strings.HasSuffix(content, "\n") {
			content += "\n"
		}
		docs, err := splitDocs(src, []byte(content))
		if err != nil {
			return err
		}
		for _, d := range docs {
			line := 0
			if verbatim { // a CRD file, copied as is
				line = d.line
			}
			rs, err := parseDoc(src, line, d.data)
			if err != nil {
				return err
			}
			out = append(out, rs...)
		}
		return nil
	}
	for _, b := range helmBlocks(rel.Manifest) {
		if err := add(b.name, b.content); err != nil {
			return nil, fmt.Errorf("render chart %q: %w", c.Dir, err)
		}
	}
	for _, h := range rel.Hooks {
		if c.SkipTests && slices.Contains(h.Events, release.HookTest) {
			continue
		}
		if err := add(h.Path, h.Manifest); err != nil {
			return nil, fmt.Errorf("render chart %q: %w", c.Dir, err)
		}
	}
	number(c.stream(), out)
	return out, nil
}

func (c Chart) stream() string {
	s := "chart " + filepath.ToSlash(filepath.Clean(c.Dir))
	var with []string
	if len(c.Values) > 0 {
		var names []string
		for _, v := range c.Values {
			names = append(names, filepath.Base(v))
		}
		with = append(with, "values "+strings.Join(names, ", "))
	}
	if len(c.Set) > 0 {
		with = append(with, "--set") // not the values: they may be secrets
	}
	if len(with) > 0 {
		s += " (" + strings.Join(with, "; ") + ")"
	}
	return s
}

// load checks what c points at, so that mistakes in it are input errors,
// then loads the chart and merges the values as helm does.
func (c Chart) load() (*chart.Chart, map[string]any, *chartutil.KubeVersion, error) {
	fi, err := os.Stat(c.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, nil, asInput(fmt.Errorf("chart %q does not exist", c.Dir))
	case err != nil:
		return nil, nil, nil, asInput(fmt.Errorf("chart %q: %w", c.Dir, err))
	case !fi.IsDir():
		return nil, nil, nil, asInput(fmt.Errorf("chart %q is not a directory", c.Dir))
	}
	if _, err := os.Stat(filepath.Join(c.Dir, chartutil.ChartfileName)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, asInput(fmt.Errorf("%q is not a chart: it has no %s", c.Dir, chartutil.ChartfileName))
	} else if err != nil {
		return nil, nil, nil, asInput(fmt.Errorf("chart %q: %w", c.Dir, err))
	}
	for _, v := range c.Values {
		if err := checkFile("values file", v); err != nil {
			return nil, nil, nil, err
		}
		// go-yaml v2 only stops a bomb after millions of nodes.
		data, err := os.ReadFile(v)
		if err != nil {
			return nil, nil, nil, asInput(fmt.Errorf("values file %q: %w", v, err))
		}
		if err := checkAliases(filepath.ToSlash(v), data); err != nil {
			return nil, nil, nil, fmt.Errorf("chart %q: %w", c.Dir, err)
		}
	}
	for _, s := range c.Set {
		if err := strvals.ParseInto(s, map[string]any{}); err != nil {
			return nil, nil, nil, asInput(fmt.Errorf("chart %q: invalid --set: %w", c.Dir, err))
		}
	}
	var kube *chartutil.KubeVersion
	if c.KubeVersion != "" {
		if kube, err = chartutil.ParseKubeVersion(c.KubeVersion); err != nil {
			return nil, nil, nil, asInput(fmt.Errorf("kubernetes version %q: %w", c.KubeVersion, err))
		}
	}
	if c.ReleaseName != "" {
		if err := chartutil.ValidateReleaseName(c.ReleaseName); err != nil {
			return nil, nil, nil, asInput(fmt.Errorf("release name %q: %w", c.ReleaseName, err))
		}
	}

	ch, err := loader.LoadDir(c.Dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load chart %q: %w", c.Dir, err)
	}
	if t := ch.Metadata.Type; t != "" && t != "application" {
		return nil, nil, nil, asInput(fmt.Errorf("chart %q is a %s chart, which cannot be rendered", c.Dir, t))
	}
	if req := ch.Metadata.Dependencies; req != nil {
		if err := action.CheckDependencies(ch, req); err != nil {
			return nil, nil, nil, asInput(fmt.Errorf("chart %q: %w (run helm dependency build)", c.Dir, err))
		}
	}
	sortDependencies(ch)

	// Providers are empty so that a values "file" is never fetched from a URL.
	vals, err := (&values.Options{ValueFiles: c.Values, Values: c.Set}).MergeValues(getter.Providers{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("chart %q: %w", c.Dir, err)
	}
	return ch, vals, kube, nil
}

// sortDependencies orders subcharts by name: the loader adds them in map
// order, which would make the order of their CRDs vary from run to run.
func sortDependencies(ch *chart.Chart) {
	deps := slices.Clone(ch.Dependencies())
	slices.SortStableFunc(deps, func(a, b *chart.Chart) int { return strings.Compare(a.Name(), b.Name()) })
	ch.SetDependencies(deps...)
	for _, d := range deps {
		sortDependencies(d)
	}
}

// checkFile refuses a path that is missing, a directory or too large.
func checkFile(what, name string) error {
	fi, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return asInput(fmt.Errorf("%s %q does not exist", what, name))
	case err != nil:
		return asInput(fmt.Errorf("%s %q: %w", what, name, err))
	case fi.IsDir():
		return asInput(fmt.Errorf("%s %q is a directory", what, name))
	case fi.Size() > MaxFileSize:
		return asInput(fmt.Errorf("%s %q is larger than the %d MiB limit", what, name, MaxFileSize>>20))
	}
	return nil
}

type block struct{ name, content string }

// helmBlocks cuts a release manifest, which Helm writes as
// "---\n# Source: name\n" + content + "\n" for each template output and
// CRD file, back into names and contents. A CRD file's content comes back
// byte for byte (a template's lost its final newline to Helm's trimming).
func helmBlocks(manifest string) []block {
	var out []block
	parts := strings.Split("\n"+strings.TrimSuffix(manifest, "\n"), "\n---\n# Source: ")
	for _, p := range parts[1:] {
		name, content, _ := strings.Cut(p, "\n")
		out = append(out, block{name: name, content: content})
	}
	return out
}

// chartSources maps the chart paths in "# Source:" comments, built from
// chart names and dependency aliases, to the directories (or archives) on
// disk they were loaded from.
type chartSources map[string]chartFile

type chartFile struct {
	path    string
	archive bool // a packaged subchart: its templates are not files of their own
}

func newChartSources(dir, name string) chartSources {
	s := chartSources{}
	s.walk(dir, name)
	return s
}

func (s chartSources) walk(dir, full string) {
	s[full] = chartFile{path: dir}
	md, err := chartutil.LoadChartfile(filepath.Join(dir, chartutil.ChartfileName))
	if err != nil {
		return
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "charts"))
	for _, e := range entries {
		p := filepath.Join(dir, "charts", e.Name())
		var name string
		if e.IsDir() {
			sub, err := chartutil.LoadChartfile(filepath.Join(p, chartutil.ChartfileName))
			if err != nil {
				continue
			}
			name = sub.Name
		} else if sub, err := loader.LoadFile(p); err == nil {
			name = sub.Name()
		} else {
			continue
		}
		names := []string{name}
		for _, d := range md.Dependencies {
			if d.Name == name && d.Alias != "" {
				names = append(names, d.Alias)
			}
		}
		for _, n := range names {
			if e.IsDir() {
				s.walk(p, full+"/charts/"+n)
			} else {
				s[full+"/charts/"+n] = chartFile{path: p, archive: true}
			}
		}
	}
}

// file maps a "# Source:" path to the file a human edits, and says whether
// Helm copies it verbatim (a CRD) rather than rendering it. A template
// inside a subchart archive maps to the archive.
func (s chartSources) file(name string) (string, bool) {
	seg := strings.Split(name, "/")
	full, i := seg[0], 1
	for i+1 < len(seg) && seg[i] == "charts" {
		if _, ok := s[full+"/charts/"+seg[i+1]]; !ok {
			break
		}
		full += "/charts/" + seg[i+1]
		i += 2
	}
	f, ok := s[full]
	switch {
	case !ok:
		return name, false
	case f.archive:
		return filepath.ToSlash(f.path), false
	}
	rest := path.Join(seg[i:]...)
	return filepath.ToSlash(filepath.Join(f.path, filepath.FromSlash(rest))), strings.HasPrefix(rest, "crds/")
}

// templateError names templates by their path in the repository, as the
// rest of gitship does: helm says "app/templates/cm.yaml:4:26" where the
// file a human opens is deploy/chart/templates/cm.yaml.
type templateError struct {
	err     error
	sources chartSources
	chart   string
}

func (e templateError) Error() string {
	re := regexp.MustCompile(regexp.QuoteMeta(e.chart) + `/[^\s:()]+`)
	return re.ReplaceAllStringFunc(e.err.Error(), func(name string) string {
		if src, _ := e.sources.file(name); src != "" {
			return src
		}
		return name
	})
}

func (e templateError) Unwrap() error { return e.err }
