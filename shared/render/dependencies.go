package render

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/gitship/gitship/shared/render/chartrepo"
)

// DefaultDependencyTimeout bounds each request --dependency-update makes
// to a chart repository when Chart.DependencyTimeout is 0.
const DefaultDependencyTimeout = chartrepo.DefaultTimeout

// dependencyFetch holds what Chart.DependencyUpdate fetched, shared by the
// copies of a Chart, so that a chart loaded again (once per Kubernetes
// version) downloads nothing twice and says so once.
type dependencyFetch struct {
	repo chartrepo.Fetcher
	mu   sync.Mutex
	// from maps a dependency's name to where its archive came from, for
	// errors that name a template inside it.
	from map[string]string
}

// updateDependencies does for the chart ch, loaded from c.Dir, what helm
// dependency build does (with a Chart.lock: the versions it pins, once its
// digest shows it matches Chart.yaml) or helm dependency update (without:
// the newest version each constraint allows), except that the charts go
// into ch, in memory, not into c.Dir/charts: nothing is written (see
// chartrepo.Fetcher.Update). A fetched chart replaces a copy of the same
// name in charts/; so does a file:// chart (resolveFileDependencies loads
// it then). A dependency without a repository stays the one in charts/,
// as with helm.
func (c Chart) updateDependencies(ctx context.Context, ch *chart.Chart) error {
	f := c.fetch
	if f == nil {
		f = &dependencyFetch{}
	}
	res, err := f.repo.Update(ctx, c.Dir, ch, c.DependencyTimeout)
	if err != nil {
		return asInput(fmt.Errorf("chart %q: %w", c.Dir, err))
	}
	if len(res.Replaced) == 0 {
		return nil
	}
	lock := ""
	if res.Lock {
		lock = " (Chart.lock)"
	}
	keep := slices.DeleteFunc(slices.Clone(ch.Dependencies()), func(d *chart.Chart) bool { return res.Replaced[d.Name()] })
	for _, g := range res.Fetched {
		keep = append(keep, g.Chart)
		if f.note(g.Name, g.From) && c.Log != nil {
			fmt.Fprintf(c.Log, "chart %s: dependency %s %s from %s%s, in memory (%s unchanged)\n",
				c.Dir, g.Name, g.Chart.Metadata.Version, g.From, lock, filepath.Join(c.Dir, "charts"))
		}
	}
	ch.SetDependencies(keep...)
	return nil
}

// note records that name came from from, and says whether that is new.
func (f *dependencyFetch) note(name, from string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.from == nil {
		f.from = map[string]string{}
	}
	old, ok := f.from[name]
	f.from[name] = from
	return !ok || old != from
}

// source is where the archive of the dependency name came from, "" when
// it was not fetched.
func (f *dependencyFetch) source(name string) string {
	if f == nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.from[name]
}
