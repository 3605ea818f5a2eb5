package render

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// Capabilities are what a chart sees of the cluster it renders for.
type Capabilities struct {
	// KubeVersion is .Capabilities.KubeVersion, e.g. "1.31.0"; it also
	// names the version in Resource.Versions.
	KubeVersion string
	// APIVersions are .Capabilities.APIVersions, what that version serves:
	// "apps/v1", "apps/v1/Deployment"; nil keeps Helm's defaults.
	APIVersions []string
}

// renderChartFor renders c once per entry of caps and merges the renders:
// a document rendered the same (same source, same bytes) for every version
// is one Resource; one rendered for some versions only has Versions set to
// theirs. A chart none of whose files or values names .Capabilities
// renders the same for every version: it renders once, and only the
// kubeVersion of its Chart.yaml is checked against each version.
func renderChartFor(ctx context.Context, c Chart, caps []Capabilities) ([]Resource, error) {
	if len(caps) == 0 {
		return RenderChart(ctx, c)
	}
	c = c.withFetch()
	at := func(i int) Chart {
		c.KubeVersion, c.APIVersions = caps[i].KubeVersion, caps[i].APIVersions
		return c
	}
	first := at(0)
	ch, vals, kube, err := first.load(ctx)
	if err != nil {
		return nil, err
	}
	if len(caps) == 1 {
		return first.renderLoaded(ctx, ch, vals, kube)
	}
	if !mentionsCapabilities(ch, vals) {
		for _, k := range caps[1:] {
			if err := checkKubeVersion(c.Dir, ch, k.KubeVersion); err != nil {
				return nil, err
			}
		}
		rs, err := first.renderLoaded(ctx, ch, vals, kube)
		if err != nil {
			return nil, fmt.Errorf("for Kubernetes %s: %w", caps[0].KubeVersion, err)
		}
		return rs, nil
	}
	renders := make([][]Resource, len(caps))
	for i := range caps {
		ci := at(i)
		if i > 0 { // a render changes the chart: load it anew
			if ch, vals, kube, err = ci.load(ctx); err != nil {
				return nil, err
			}
		}
		if renders[i], err = ci.renderLoaded(ctx, ch, vals, kube); err != nil {
			return nil, fmt.Errorf("for Kubernetes %s: %w", caps[i].KubeVersion, err)
		}
	}
	return mergeRenders(c.stream(), renders, caps), nil
}

// checkKubeVersion fails as a render for version would when the chart's
// kubeVersion excludes it.
func checkKubeVersion(dir string, ch *chart.Chart, version string) error {
	kube, err := chartutil.ParseKubeVersion(version)
	if err != nil {
		return asInput(fmt.Errorf("kubernetes version %q: %w", version, err))
	}
	if v := ch.Metadata.KubeVersion; v != "" && !chartutil.IsCompatibleRange(v, kube.String()) {
		return fmt.Errorf("render chart %q: chart requires kubeVersion: %s which is incompatible with Kubernetes %s", dir, v, kube.String())
	}
	return nil
}

// mentionsCapabilities reports whether a file of ch or of a subchart
// (templates, values, files a template may pass to tpl), or a value of
// vals, names Capabilities: the only way a render reads the version.
func mentionsCapabilities(ch *chart.Chart, vals map[string]any) bool {
	word := []byte("Capabilities")
	var inChart func(*chart.Chart) bool
	inChart = func(ch *chart.Chart) bool {
		for _, f := range ch.Raw {
			if bytes.Contains(f.Data, word) {
				return true
			}
		}
		for _, f := range ch.Templates { // loaders other than LoadDir may leave Raw empty
			if bytes.Contains(f.Data, word) {
				return true
			}
		}
		for _, d := range ch.Dependencies() {
			if inChart(d) {
				return true
			}
		}
		return false
	}
	if inChart(ch) {
		return true
	}
	var inValue func(any) bool
	inValue = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.Contains(v, string(word))
		case map[string]any:
			for k, e := range v {
				if strings.Contains(k, string(word)) || inValue(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if inValue(e) {
					return true
				}
			}
		}
		return false
	}
	return inValue(vals)
}

// mergeRenders joins the renders of one chart, renders[i] for caps[i]: in
// the first render's order, then what later ones add. A document is the
// same in two renders when its source and bytes are: it is validated once
// per version without being rendered or parsed again.
func mergeRenders(stream string, renders [][]Resource, caps []Capabilities) []Resource {
	var out []Resource
	var versions [][]string
	index := map[string]int{}
	for i, rs := range renders {
		seen := map[string]int{} // the same document twice in one render is two resources
		for _, r := range rs {
			k := r.Source + "\x00" + string(r.Data)
			seen[k]++
			k += "\x00" + strconv.Itoa(seen[k])
			if j, ok := index[k]; ok {
				versions[j] = append(versions[j], caps[i].KubeVersion)
				continue
			}
			index[k] = len(out)
			out = append(out, r)
			versions = append(versions, []string{caps[i].KubeVersion})
		}
	}
	for j := range out {
		if len(versions[j]) < len(caps) {
			out[j].Versions = versions[j]
		}
	}
	number(stream, out)
	return out
}
