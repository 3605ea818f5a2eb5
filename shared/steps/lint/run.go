package lint

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/gitship/gitship/shared/atomicfile"
	"github.com/gitship/gitship/shared/chartlint"
	"github.com/gitship/gitship/shared/dockerfile"
	"github.com/gitship/gitship/shared/finding"
	"github.com/gitship/gitship/shared/markdown"
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/yamlcheck"
)

// Run lints what the settings name and reports it on r's platform. It
// returns an error wrapping step.ErrCheckFailed when findings reach
// --fail-on, and a step.UsageError for bad input.
func Run(ctx context.Context, s Settings, r *step.Run) error {
	failOn, err := finding.ParseSeverity(s.FailOn)
	if err != nil {
		return step.Usagef("--fail-on: %v", err)
	}
	report, r := r.ForReport(s.Format, s.Output)
	root := r.Context().Workspace
	cfg, err := loadConfig(root, s.Config)
	if err != nil {
		return err
	}
	values, err := valuesFiles(root, s.Values.Value())
	if err != nil {
		return err
	}

	var found targets
	var findings []finding.Finding
	err = r.Group("Lint", func() error {
		found, err = discover(root, s.Paths.Value(), s.Exclude.Value())
		if err != nil {
			return err
		}
		found.yaml = withValues(found.yaml, values)
		fmt.Fprintf(r.Stdout, "Linting %d Dockerfiles, %d charts (%d values files) and %d YAML files\n",
			len(found.dockerfiles), len(found.charts), len(values), len(found.yaml))
		findings, err = lintAll(ctx, found, values, cfg, s)
		return err
	})
	if err != nil {
		return err
	}

	ignored := append(s.Ignore.Value(), cfg.Ignored...)
	findings = slices.DeleteFunc(findings, func(f finding.Finding) bool { return slices.Contains(ignored, f.RuleID) })
	finding.Sort(findings)
	rep := finding.Report{
		Tool: "gitship-lint", Version: step.Version, InformationURI: "https://github.com/gitship/gitship",
		Rules: allRules(), Findings: findings,
	}
	if err := publish(r, report, s, rep); err != nil {
		return err
	}
	if n := finding.AtOrAbove(findings, failOn); failOn != finding.None && n > 0 {
		return fmt.Errorf("%d findings at or above %s: %w", n, failOn, step.ErrCheckFailed)
	}
	return nil
}

// lintAll checks files in parallel (they are independent) and charts one
// after the other (each already renders every template).
func lintAll(ctx context.Context, t targets, values []chartlint.Values, cfg dockerfile.Config, s Settings) ([]finding.Finding, error) {
	type job struct {
		f    file
		kind string
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var all []finding.Finding
	var firstErr error
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				src, err := os.ReadFile(j.f.abs)
				var fs []finding.Finding
				if err == nil {
					if j.kind == "dockerfile" {
						fs = dockerfile.Lint(j.f.rel, src, dockerfile.Options{Config: cfg, Targets: s.Targets.Value()})
					} else {
						fs = yamlcheck.Check(j.f.rel, src)
					}
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = step.Usagef("read %s: %v", j.f.rel, unwrapPath(err))
				}
				all = append(all, fs...)
				mu.Unlock()
			}
		}()
	}
	send := func(files []file, kind string) {
		for _, f := range files {
			if ctx.Err() != nil {
				return
			}
			jobs <- job{f, kind}
		}
	}
	send(t.dockerfiles, "dockerfile")
	send(t.yaml, "yaml")
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}

	for _, c := range t.charts {
		fs, err := chartlint.Lint(c.abs, c.rel, chartlint.Options{
			Values:            valuesFor(c, t.charts, values),
			KubernetesVersion: s.KubernetesVersion,
			DependencyUpdate:  s.DependencyUpdate,
			DependencyTimeout: s.DependencyTimeout,
		})
		if err != nil {
			return nil, step.Usagef("--kubernetes-version: %v", err)
		}
		all = append(all, fs...)
	}
	return all, nil
}

// withValues adds the --values files to the YAML files to check: one
// outside every --path (a deploy repository's environments/, say) is read
// by helm, which keeps one of a duplicate key's values without a word.
func withValues(yaml []file, values []chartlint.Values) []file {
	for _, v := range values {
		if !slices.ContainsFunc(yaml, func(f file) bool { return f.abs == v.Path }) {
			yaml = append(yaml, file{abs: v.Path, rel: v.Name})
		}
	}
	return yaml
}

// valuesFor picks the values files of one chart: a file inside a chart's
// directory belongs to that chart alone, the others apply to every chart.
func valuesFor(chart file, charts []file, values []chartlint.Values) []chartlint.Values {
	var out []chartlint.Values
	for _, v := range values {
		inOther := slices.ContainsFunc(charts, func(c file) bool { return c.abs != chart.abs && within(c.abs, v.Path) })
		if within(chart.abs, v.Path) || !inOther {
			out = append(out, v)
		}
	}
	return out
}

func valuesFiles(root string, paths []string) ([]chartlint.Values, error) {
	var out []chartlint.Values
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, step.Usagef("--values %q: %v", p, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, step.Usagef("--values %q: %v", p, unwrapPath(err))
		}
		out = append(out, chartlint.Values{Name: relTo(root, abs), Path: abs})
	}
	return out, nil
}

// loadConfig reads --config, or the first .hadolint.yaml/.yml in the
// working directory or at the repository root, where hadolint looks.
func loadConfig(root, path string) (dockerfile.Config, error) {
	if path == "" {
	search:
		for _, dir := range []string{".", root} {
			for _, name := range []string{".hadolint.yaml", ".hadolint.yml"} {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					path = filepath.Join(dir, name)
					break search
				}
			}
		}
		if path == "" {
			return dockerfile.Config{}, nil
		}
	}
	cfg, err := dockerfile.LoadConfig(path)
	if err != nil {
		return cfg, step.Usagef("--config: %v", err)
	}
	return cfg, nil
}

func allRules() []finding.Rule {
	rules := slices.Concat(dockerfile.Rules(), chartlint.Rules(), yamlcheck.Rules())
	slices.SortFunc(rules, func(a, b finding.Rule) int { return strings.Compare(a.ID, b.ID) })
	return rules
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// publish prints the annotations, writes the report (to --output or to
// report), sets the outputs and the summary.
func publish(r *step.Run, report io.Writer, s Settings, rep finding.Report) error {
	for _, f := range rep.Findings {
		r.Platform.Annotate(r.Stdout, f)
	}
	switch {
	case s.Output != "":
		if err := atomicfile.Write(s.Output, func(w io.Writer) error { return rep.Write(w, s.Format) }); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		fmt.Fprintln(r.Stdout, finding.CountLine(rep.Findings))
		fmt.Fprintf(r.Stdout, "Report (%s) written to %s\n", s.Format, s.Output)
	case s.Format == "text":
		fmt.Fprintln(r.Stdout, finding.CountLine(rep.Findings))
	default:
		if err := rep.Write(report, s.Format); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}

	c := finding.Counts(rep.Findings)
	for _, o := range []struct{ name, value string }{
		{"findings", fmt.Sprint(len(rep.Findings))},
		{"errors", fmt.Sprint(c[finding.Error])},
		{"warnings", fmt.Sprint(c[finding.Warning])},
		{"report", s.Output},
	} {
		if err := r.SetOutput(o.name, o.value); err != nil {
			return err
		}
	}
	return r.Summary(summary(rep))
}

// maxSummaryRows keeps the summary readable; the report has them all.
const maxSummaryRows = 100

func summary(rep finding.Report) string {
	var b strings.Builder
	c := finding.Counts(rep.Findings)
	fmt.Fprintf(&b, "### gitship lint\n\n| errors | warnings | info |\n|---:|---:|---:|\n| %d | %d | %d |\n\n",
		c[finding.Error], c[finding.Warning], c[finding.Info])
	if len(rep.Findings) == 0 {
		b.WriteString("No findings.\n")
		return b.String()
	}
	b.WriteString("| severity | rule | location | message |\n|---|---|---|---|\n")
	for i, f := range rep.Findings {
		if i == maxSummaryRows {
			fmt.Fprintf(&b, "\n_%d more findings in the report._\n", len(rep.Findings)-maxSummaryRows)
			break
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", f.Severity, ruleLink(rep, f.RuleID), f.Location(), markdown.Cell(f.Message))
	}
	return b.String()
}

func ruleLink(rep finding.Report, id string) string {
	for _, r := range rep.Rules {
		if r.ID == id && r.HelpURI != "" {
			return fmt.Sprintf("[%s](%s)", id, r.HelpURI)
		}
	}
	return id
}
