package chartlint

import (
	"path"
	"regexp"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

// where is a template position: the file relative to the chart directory.
type where struct {
	file      string
	line, col int
}

// failLocations finds where each `fail` of a chart fires with these values.
// Helm's lint mode only logs a fail's message, without its template, so
// each template is rendered again on its own, outside lint mode, where the
// fail is an error that carries its position. The result maps a message to
// the first position that fails with it; a fail hidden behind an earlier
// error of its template (a `required` outside lint mode) has none.
func failLocations(dir string, vals map[string]interface{}, ns string, kube *chartutil.KubeVersion) map[string]where {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil
	}
	cvals, err := chartutil.CoalesceValues(ch, vals)
	if err != nil {
		return nil
	}
	caps := chartutil.DefaultCapabilities.Copy()
	if kube != nil {
		caps.KubeVersion = *kube
	}
	top, err := chartutil.ToRenderValues(ch, cvals, chartutil.ReleaseOptions{Name: "test-release", Namespace: ns}, caps)
	if err != nil {
		return nil
	}
	out := map[string]where{}
	for _, name := range renderedTemplates(ch) {
		_, err := engine.Engine{}.Render(only(ch, name), top)
		if err == nil {
			continue
		}
		msg := err.Error()
		w, ok := execPos(msg)
		if !ok {
			continue
		}
		// Helm trims a one-line message to "execution error at (pos):
		// msg"; one of several lines stays text/template's error.
		var text string
		var found bool
		if rest, ok := strings.CutPrefix(msg, "execution error at ("); ok {
			_, text, found = strings.Cut(rest, "): ")
		} else if _, text, found = strings.Cut(msg, "error calling fail: "); found {
			text = strings.TrimSuffix(strings.TrimPrefix(text, "HELM_ERR_START"), "HELM_ERR_END")
		}
		if _, dup := out[text]; found && !dup {
			out[text] = w
		}
	}
	return out
}

// execPosRE finds "web/templates/x.yaml:3:4" (or web/charts/sub/templates/..)
// in helm's execution errors; the first element is the chart's name.
var execPosRE = regexp.MustCompile(`^(?:execution error at \(|template: )([^/\s():]+)/([^\s():]+):(\d+)(?::(\d+))?`)

func execPos(msg string) (where, bool) {
	sub := execPosRE.FindStringSubmatch(msg)
	if sub == nil {
		return where{}, false
	}
	w := where{file: sub[2]}
	w.line, _ = strconv.Atoi(sub[3])
	w.col, _ = strconv.Atoi(sub[4])
	return w, true
}

// renderedTemplates lists the full names ("web/templates/x.yaml") of the
// templates helm executes: every one but partials, in every chart.
func renderedTemplates(c *chart.Chart) []string {
	var out []string
	for _, t := range c.Templates {
		if t != nil && !strings.HasPrefix(path.Base(t.Name), "_") {
			out = append(out, path.Join(c.ChartFullPath(), t.Name))
		}
	}
	for _, d := range c.Dependencies() {
		out = append(out, renderedTemplates(d)...)
	}
	return out
}

// only copies c with its partials and the one template named keep, so that
// an error rendering it is that template's.
func only(c *chart.Chart, keep string) *chart.Chart {
	cp := *c
	cp.Templates = nil
	for _, t := range c.Templates {
		if t != nil && (strings.HasPrefix(path.Base(t.Name), "_") || path.Join(c.ChartFullPath(), t.Name) == keep) {
			cp.Templates = append(cp.Templates, t)
		}
	}
	var deps []*chart.Chart
	for _, d := range c.Dependencies() {
		deps = append(deps, only(d, keep))
	}
	cp.SetDependencies(deps...)
	return &cp
}
