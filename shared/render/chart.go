package render

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// Chart is a Helm chart on disk and how to render it.
type Chart struct {
	Dir         string   // the chart directory
	Values      []string // values files; a later one overrides an earlier one
	Set         []string // --set values, applied after the files
	ReleaseName string   // default "release-name", as helm template
	Namespace   string   // default "default"
	KubeVersion string   // .Capabilities.KubeVersion, e.g. "1.31.0"; default Helm's
	// APIVersions, when set, are .Capabilities.APIVersions instead of
	// Helm's defaults: "apps/v1", "apps/v1/Deployment", what the cluster
	// serves, as helm install learns it from the cluster's discovery.
	APIVersions []string
	SkipTests   bool // drop test hooks
	// KeepUnreadable keeps a rendered document that is not an object as a
	// Resource with Err set (Sources.KeepUnreadable).
	KeepUnreadable bool
	// DependencyUpdate fetches the dependencies of Chart.yaml before
	// rendering, as helm dependency build (with Chart.lock) or update
	// (without) would, into memory: Dir is not changed (see
	// updateDependencies).
	DependencyUpdate bool
	// DependencyTimeout bounds each request to a chart repository;
	// 0 is DefaultDependencyTimeout.
	DependencyTimeout time.Duration
	// Log, when set, is told what DependencyUpdate fetched.
	Log io.Writer

	fetch *dependencyFetch // shared by copies: set by withFetch
}

// withFetch gives c a store for what DependencyUpdate fetches, which the
// copies of c made afterwards share.
func (c Chart) withFetch() Chart {
	if c.DependencyUpdate && c.fetch == nil {
		c.fetch = &dependencyFetch{}
	}
	return c
}

// RenderChart renders c like `helm template --include-crds`, in process and
// without a cluster: CRDs from crds/ directories first, then the output of
// each template, hooks included, in the order of the templates' names.
// NOTES.txt is left out. Each resource's Source is the template (or CRD
// file) it came from.
//
// Helm's install order (by kind, hooks last) is not kept: files are named by
// kind and name downstream, so the order matters neither to validation nor
// to the GitOps files, and sorting costs Helm a second parse of every
// document.
func RenderChart(ctx context.Context, c Chart) ([]Resource, error) {
	c = c.withFetch()
	ch, vals, kube, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	return c.renderLoaded(ctx, ch, vals, kube)
}

// renderLoaded is RenderChart once c.load has loaded the chart. It changes
// ch (the dependencies a condition disables are dropped): a chart renders
// once per load.
func (c Chart) renderLoaded(ctx context.Context, ch *chart.Chart, vals map[string]any, kube *chartutil.KubeVersion) ([]Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sources := newChartSources(c.Dir, ch) // before render changes the dependencies
	sources.fetched(c.Dir, ch, c.fetch)
	files, err := c.render(ch, vals, kube)
	if err != nil {
		return nil, fmt.Errorf("render chart %q: %w", c.Dir, templateError{err, sources, ch.Name()})
	}

	// Each rendered file (and CRD) is cut into documents and their headers
	// read on every core, then joined in order: on one core this was a
	// twentieth of a large chart's run, while the other core had nothing
	// left to do.
	var units []block
	// After render: a subchart that a condition or tag disables has no CRDs.
	for _, crd := range ch.CRDObjects() {
		units = append(units, block{name: crd.Filename, content: string(crd.File.Data), crd: true})
	}
	units = append(units, files...)
	out, err := inOrder(units, func(u block) ([]Resource, error) { return c.resources(sources, u) })
	if err != nil {
		return nil, fmt.Errorf("render chart %q: %w", c.Dir, err) // the first, as one after another
	}
	number(c.stream(), out)
	return out, nil
}

// resources are the resources of one rendered file, or of one of the
// chart's CRD files (copied as is: one document, its lines the file's).
func (c Chart) resources(sources chartSources, b block) ([]Resource, error) {
	src, verbatim := sources.file(b.name)
	contents := []string{b.content}
	if !b.crd {
		contents = helmDocs(b.content)
	}
	var out []Resource
	for _, content := range contents {
		if !strings.HasSuffix(content, "\n") {
			content += "\n"
		}
		docs, err := splitDocs(src, []byte(content))
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			line := 0
			if verbatim { // a CRD file, copied as is
				line = d.line
			}
			// Like ReadManifests: a plain header is enough here, the
			// validator parses the body (and reports its syntax) anyway.
			rs, err := parseDocQuick(src, line, d.data)
			if err != nil {
				if rs, err = kept(err, c.KeepUnreadable, src, line, d.data); err != nil {
					return nil, err
				}
			}
			for _, r := range rs {
				if keep(r.Hook, c.SkipTests) {
					out = append(out, r)
				}
			}
		}
	}
	return out, nil
}

// render does what Helm's action.Install does for helm template, with the
// SDK's lower-level packages (action links a Kubernetes client, kubectl and
// OCI registries). It returns the rendered templates that make resources,
// sorted by name.
func (c Chart) render(ch *chart.Chart, vals map[string]any, kube *chartutil.KubeVersion) ([]block, error) {
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, err
	}
	caps := chartutil.DefaultCapabilities.Copy()
	if kube != nil {
		caps.KubeVersion = *kube
	}
	if len(c.APIVersions) > 0 {
		// Not added to Helm's defaults (helm template --api-versions
		// does): those are every group/version of the client library
		// Helm links, flowcontrol.apiserver.k8s.io/v1beta3 too, which a
		// 1.37 cluster no longer serves.
		caps.APIVersions = chartutil.VersionSet(slices.Clone(c.APIVersions))
	}
	top, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{
		Name:      cmp.Or(c.ReleaseName, "release-name"),
		Namespace: cmp.Or(c.Namespace, "default"),
		Revision:  1,
		IsInstall: true,
	}, caps)
	if err != nil {
		return nil, err
	}
	if v := ch.Metadata.KubeVersion; v != "" && !chartutil.IsCompatibleRange(v, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", v, caps.KubeVersion.String())
	}
	files, err := engine.Engine{}.Render(ch, top) // neither Strict nor LintMode, as helm template
	if err != nil {
		return nil, err
	}
	var out []block
	for name, content := range files {
		// As Helm: NOTES.txt of any chart (any name ending so), partials,
		// and empty output make no resources.
		if strings.HasSuffix(name, "NOTES.txt") || strings.HasPrefix(path.Base(name), "_") || strings.TrimSpace(content) == "" {
			continue
		}
		out = append(out, block{name: name, content: content})
	}
	slices.SortFunc(out, func(a, b block) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// helmDocs cuts a template's output into documents as Helm's
// releaseutil.SplitManifests does, each trimmed of surrounding white space:
// the bytes helm template prints. Helm's separator, the regular expression
// `(?:^|\s*\n)---\s*`, is looser than splitDocs's (it splits at
// "--- apiVersion: v1" too, and helm template accepts that); matching it
// took a tenth of RenderChart's time, so this finds the same separators by
// hand (FuzzHelmDocs holds the two together).
func helmDocs(content string) []string {
	var out []string
	add := func(d string) {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	s := strings.TrimSpace(content)
	if rest, ok := strings.CutPrefix(s, "---"); ok {
		s = strings.TrimLeft(rest, regexpSpace)
	}
	for {
		i := strings.Index(s, "\n---")
		if i < 0 {
			add(s)
			return out
		}
		add(s[:i])
		// The white space after "---", newlines too, belongs to the separator:
		// "---\n---" is one separator and a document starting "---".
		s = strings.TrimLeft(s[i+len("\n---"):], regexpSpace)
	}
}

// regexpSpace is \s of Go's regular expressions.
const regexpSpace = "\t\n\f\r "

// hookEvents are the helm.sh/hook values Helm knows, and whether each is a
// test.
var hookEvents = map[string]bool{
	string(release.HookPreInstall): false, string(release.HookPostInstall): false,
	string(release.HookPreDelete): false, string(release.HookPostDelete): false,
	string(release.HookPreUpgrade): false, string(release.HookPostUpgrade): false,
	string(release.HookPreRollback): false, string(release.HookPostRollback): false,
	string(release.HookTest): true, "test-success": true, // Helm 2's name for test
}

// keep says whether helm template prints a resource with the helm.sh/hook
// annotation hook: not if an event is unknown (Helm skips the hook), nor a
// test hook when skipTests.
func keep(hook string, skipTests bool) bool {
	if hook == "" {
		return true
	}
	for e := range strings.SplitSeq(hook, ",") {
		test, ok := hookEvents[strings.ToLower(strings.TrimSpace(e))]
		if !ok || test && skipTests {
			return false
		}
	}
	return true
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
func (c Chart) load(ctx context.Context) (*chart.Chart, map[string]any, *chartutil.KubeVersion, error) {
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
	files := make([][]byte, len(c.Values))
	for i, v := range c.Values {
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
		files[i] = data
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
	if c.DependencyUpdate {
		if err := c.updateDependencies(ctx, ch); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := resolveFileDependencies(c.Dir, ch); err != nil {
		return nil, nil, nil, fmt.Errorf("chart %q: %w", c.Dir, err)
	}
	if missing := missingDependencies(ch); len(missing) > 0 {
		fix := "run helm dependency build %s (it fetches what Chart.lock pins into charts/)"
		if fetchable(ch) {
			fix += ", or add --dependency-update"
		}
		if c.DependencyUpdate {
			fix = "a dependency without a repository must be in charts/ (helm dependency build %s does not fetch it either)"
		}
		return nil, nil, nil, asInput(fmt.Errorf("chart %q: %s in Chart.yaml but not in %s: "+fix,
			c.Dir, strings.Join(missing, "; "), filepath.Join(c.Dir, "charts"), c.Dir))
	}
	sortDependencies(ch)

	vals, err := c.mergeValues(files)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("chart %q: %w", c.Dir, err)
	}
	return ch, vals, kube, nil
}

// mergeValues merges the values files (their contents in files) and then
// the --set values, as Helm's values.Options.MergeValues does. That one
// imports Helm's getter package, which links OCI registries and Kubernetes
// clients to fetch values from URLs, which gitship never does.
func (c Chart) mergeValues(files [][]byte) (map[string]any, error) {
	base := map[string]any{}
	for i, data := range files {
		m := map[string]any{}
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", c.Values[i], err)
		}
		base = mergeMaps(base, m)
	}
	for _, s := range c.Set {
		if err := strvals.ParseInto(s, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	return base, nil
}

// mergeMaps is helm's: b over a, tables merged key by key.
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if v, ok := v.(map[string]any); ok {
			if bv, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(bv, v)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// missingDependencies names the dependencies of Chart.yaml that no chart
// in charts/ satisfies, as helm's action.CheckDependencies, each with its
// version and repository: "dependency postgresql 12.x.x from
// https://charts.bitnami.com/bitnami is".
func missingDependencies(ch *chart.Chart) []string {
	var missing []string
	for _, r := range ch.Metadata.Dependencies {
		if !slices.ContainsFunc(ch.Dependencies(), func(d *chart.Chart) bool { return d.Name() == r.Name }) {
			m := "dependency " + r.Name
			if r.Version != "" {
				m += " " + r.Version
			}
			if r.Repository != "" {
				m += " from " + r.Repository
			}
			missing = append(missing, m+" is")
		}
	}
	if len(missing) > 1 {
		missing[len(missing)-1] = strings.TrimSuffix(missing[len(missing)-1], " is") + " are"
		for i := range missing[:len(missing)-1] {
			missing[i] = strings.TrimSuffix(missing[i], " is")
		}
	}
	return missing
}

// fetchable says whether a dependency of ch that charts/ lacks is on a
// chart repository --dependency-update fetches from (http or https).
func fetchable(ch *chart.Chart) bool {
	for _, r := range ch.Metadata.Dependencies {
		if (strings.HasPrefix(r.Repository, "http://") || strings.HasPrefix(r.Repository, "https://")) &&
			!slices.ContainsFunc(ch.Dependencies(), func(d *chart.Chart) bool { return d.Name() == r.Name }) {
			return true
		}
	}
	return false
}

// fileDependency is where a file:// repository of a dependency of the
// chart in dir points, or "" for another repository.
func fileDependency(dir string, r *chart.Dependency) string {
	p, ok := strings.CutPrefix(r.Repository, "file://")
	if !ok {
		return ""
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p
}

// resolveFileDependencies adds to ch, the chart in dir, the dependencies
// with a file:// repository that charts/ lacks, loaded from where the
// repository points (a chart directory or archive), as helm dependency
// build would have copied them; their own file:// dependencies too. The
// chart found must have the dependency's name and a version its
// constraint allows.
func resolveFileDependencies(dir string, ch *chart.Chart) error {
	for _, r := range ch.Metadata.Dependencies {
		p := fileDependency(dir, r)
		if p == "" || slices.ContainsFunc(ch.Dependencies(), func(d *chart.Chart) bool { return d.Name() == r.Name }) {
			continue
		}
		sub, err := loader.Load(p)
		if err != nil {
			return asInput(fmt.Errorf("dependency %s from %s: %w", r.Name, r.Repository, err))
		}
		if sub.Name() != r.Name {
			return asInput(fmt.Errorf("dependency %s from %s: %s holds chart %q", r.Name, r.Repository, p, sub.Name()))
		}
		if r.Version != "" && !chartutil.IsCompatibleRange(r.Version, sub.Metadata.Version) {
			return asInput(fmt.Errorf("dependency %s from %s: version %s does not satisfy the constraint %s", r.Name, r.Repository, sub.Metadata.Version, r.Version))
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			if err := resolveFileDependencies(p, sub); err != nil {
				return fmt.Errorf("dependency %s: %w", r.Name, err)
			}
		}
		ch.AddDependency(sub)
	}
	return nil
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
	}
	return checkInfo(what, name, fi)
}

// checkInfo refuses a file that is a directory or too large, by its info.
func checkInfo(what, name string, fi fs.FileInfo) error {
	switch {
	case fi.IsDir():
		return asInput(fmt.Errorf("%s %q is a directory", what, name))
	case fi.Size() > MaxFileSize:
		return asInput(fmt.Errorf("%s %q is larger than the %d MiB limit", what, name, MaxFileSize>>20))
	}
	return nil
}

// block is a rendered template: its name, as in "# Source:" comments, and output.
type block struct {
	name, content string
	crd           bool // a CRD file: one document, not cut as Helm cuts templates
}

// chartSources maps the chart paths in "# Source:" comments, built from
// chart names and dependency aliases, to the directories (or archives) on
// disk they were loaded from.
type chartSources map[string]chartFile

type chartFile struct {
	path    string
	archive bool // a packaged subchart: its templates are not files of their own
}

func newChartSources(dir string, ch *chart.Chart) chartSources {
	s := chartSources{}
	s.walk(dir, ch.Name(), ch.Metadata)
	return s
}

// walk maps full, the chart in dir whose Chart.yaml is md, and its
// subcharts.
func (s chartSources) walk(dir, full string, md *chart.Metadata) {
	s[full] = chartFile{path: dir}
	var paths []string
	entries, _ := os.ReadDir(filepath.Join(dir, "charts"))
	for _, e := range entries {
		paths = append(paths, filepath.Join(dir, "charts", e.Name()))
	}
	// Then the file:// dependencies charts/ lacks, as
	// resolveFileDependencies loads them.
	var vendored []string
	for _, p := range paths {
		if name, _ := s.add(full, p, md); name != "" {
			vendored = append(vendored, name)
		}
	}
	if md == nil {
		return
	}
	for _, d := range md.Dependencies {
		if p := fileDependency(dir, d); p != "" && !slices.Contains(vendored, d.Name) {
			s.add(full, p, md)
		}
	}
}

// add maps the chart at p (a directory or an archive), a subchart of full
// whose Chart.yaml is md, under its name and aliases, and returns its name.
func (s chartSources) add(full, p string, md *chart.Metadata) (string, bool) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", false
	}
	var name string
	var sub *chart.Metadata
	if fi.IsDir() {
		if sub, err = chartutil.LoadChartfile(filepath.Join(p, chartutil.ChartfileName)); err != nil {
			return "", false
		}
		name = sub.Name
	} else if ch, err := loader.LoadFile(p); err == nil {
		name = ch.Name()
	} else {
		return "", false
	}
	names := []string{name}
	if md != nil {
		for _, d := range md.Dependencies {
			if d.Name == name && d.Alias != "" {
				names = append(names, d.Alias)
			}
		}
	}
	for _, n := range names {
		if fi.IsDir() {
			s.walk(p, full+"/charts/"+n, sub)
		} else {
			s[full+"/charts/"+n] = chartFile{path: p, archive: true}
		}
	}
	return name, true
}

// fetched maps the subcharts of ch, the chart in dir, that
// --dependency-update fetched to the archives they came from, in place of
// what charts/ holds: named as helm dependency build would save them,
// dir/charts/lib-1.2.3.tgz (the log says where they came from).
func (s chartSources) fetched(dir string, ch *chart.Chart, f *dependencyFetch) {
	if f == nil {
		return
	}
	for _, d := range ch.Metadata.Dependencies {
		if from := f.source(d.Name); from != "" {
			for _, n := range []string{d.Name, d.Alias} {
				if n == "" {
					continue
				}
				prefix := ch.Name() + "/charts/" + n
				for k := range s {
					if k == prefix || strings.HasPrefix(k, prefix+"/") {
						delete(s, k)
					}
				}
				s[prefix] = chartFile{path: filepath.Join(dir, "charts", path.Base(strings.ReplaceAll(from, "\\", "/"))), archive: true}
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

// Kind is an API version and kind a chart's templates name.
type Kind struct{ APIVersion, Kind string }

// TemplateKinds guesses, without rendering, the kinds the chart in dir
// renders: the literal top-level "apiVersion:" and "kind:" lines of each
// document in its templates/ and crds/, and those of the subcharts
// unpacked under its charts/, in the order met, each once. A kind whose
// apiVersion is not literal (a template expression) has an empty
// APIVersion. It is a guess, for work that can start before the render
// ends (validate compiles these kinds' schemas on the core the render
// leaves idle): a kind in a branch the values leave out is named, one
// whose kind: line is a template expression is not. Unreadable files are
// skipped.
func TemplateKinds(dir string) []Kind {
	var out []Kind
	seen := map[Kind]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || !chartTemplate(filepath.ToSlash(rel)) {
			return nil
		}
		if fi, err := d.Info(); err != nil || fi.Size() > MaxFileSize {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, k := range literalKinds(data) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
		return nil
	})
	return out
}

// chartTemplate reports whether rel, a slash-separated path in a chart,
// is a file Helm renders or installs: under templates/ or crds/ of the
// chart or of a subchart (charts/NAME/...), not NOTES.txt.
func chartTemplate(rel string) bool {
	parts := strings.Split(rel, "/")
	for len(parts) > 2 && parts[0] == "charts" {
		parts = parts[2:]
	}
	return len(parts) > 1 && (parts[0] == "templates" || parts[0] == "crds") && parts[len(parts)-1] != "NOTES.txt"
}

// literalKinds are the top-level apiVersion and kind of each document of
// a template whose kind is written literally.
func literalKinds(data []byte) []Kind {
	var out []Kind
	var cur Kind
	flush := func() {
		if cur.Kind != "" {
			out = append(out, cur)
		}
		cur = Kind{}
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("---")):
			flush()
		case bytes.HasPrefix(line, []byte("apiVersion:")):
			cur.APIVersion = literal(line[len("apiVersion:"):])
		case bytes.HasPrefix(line, []byte("kind:")):
			cur.Kind = literal(line[len("kind:"):])
		}
	}
	flush()
	return out
}

// literal is the plain or quoted scalar v, or "" when it is a template
// expression or anything else than a name.
func literal(v []byte) string {
	s := strings.TrimSpace(string(v))
	if i := strings.Index(s, " #"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return ""
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '/' || c == '-') {
			return ""
		}
	}
	return s
}
