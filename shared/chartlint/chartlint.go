package chartlint

import (
	"fmt"
	"log"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/gitship/gitship/shared/finding"
)

// Rule IDs, by the part of the chart a message is about.
const (
	RuleChart     = "HL1000"
	RuleMetadata  = "HL1001"
	RuleValues    = "HL1002"
	RuleTemplates = "HL1003"
)

const helpURI = "https://helm.sh/docs/helm/helm_lint/"

// Rules lists what Lint reports. The severity of each finding is Helm's own.
func Rules() []finding.Rule {
	return []finding.Rule{
		{ID: RuleChart, Name: "chart", Severity: finding.Error, HelpURI: helpURI,
			Summary: "helm lint found a problem with the chart as a whole."},
		{ID: RuleMetadata, Name: "chart-metadata", Severity: finding.Error, HelpURI: "https://helm.sh/docs/topics/charts/#the-chartyaml-file",
			Summary: "Chart.yaml is missing a required field or has an invalid one."},
		{ID: RuleValues, Name: "chart-values", Severity: finding.Error, HelpURI: "https://helm.sh/docs/chart_template_guide/values_files/",
			Summary: "A values file is invalid or does not match the chart's values.schema.json."},
		{ID: RuleTemplates, Name: "chart-template", Severity: finding.Error, HelpURI: "https://helm.sh/docs/chart_template_guide/debugging/",
			Summary: "A template fails to render with these values, or renders invalid Kubernetes YAML."},
	}
}

// Values is a values file given to the chart.
type Values struct {
	Name string // repository-relative, as shown in messages
	Path string // where to read it
}

// Options tune a lint run.
type Options struct {
	// Values are linted one run each; none means the chart's defaults.
	Values []Values
	// KubernetesVersion sets .Capabilities.KubeVersion, e.g. "1.31.0".
	KubernetesVersion string
	// Namespace is the release namespace templates see.
	Namespace string
	// DependencyUpdate lints the chart with its dependencies fetched, as
	// validate --dependency-update renders it (see withDependencies);
	// DependencyTimeout bounds each request (0: chartrepo.DefaultTimeout).
	DependencyUpdate  bool
	DependencyTimeout time.Duration
}

// Lint lints the chart in dir; rel is its repository-relative path, the
// prefix of every finding's file. A message that every values file
// produces is reported once; one that only some produce names them.
func Lint(dir, rel string, opts Options) ([]finding.Finding, error) {
	kube, err := chartutil.ParseKubeVersion(opts.KubernetesVersion)
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", opts.KubernetesVersion, err)
	}
	ns := opts.Namespace
	if ns == "" {
		ns = "default"
	}
	runs := opts.Values
	if len(runs) == 0 {
		runs = []Values{{}}
	}

	type seen struct {
		f      finding.Finding
		values []string
	}
	var order []string
	byKey := map[string]*seen{}
	add := func(f finding.Finding, values string) {
		key := f.String()
		s, ok := byKey[key]
		if !ok {
			s = &seen{f: f}
			byKey[key] = s
			order = append(order, key)
		}
		if values != "" {
			s.values = append(s.values, values)
		}
	}

	lintDir, failed := dir, map[string]bool(nil)
	if opts.DependencyUpdate {
		d, cleanup, fs, fl, err := withDependencies(dir, rel, opts)
		if err != nil {
			return nil, fmt.Errorf("chart %s: --dependency-update: %w", rel, err)
		}
		defer cleanup()
		lintDir, failed = d, fl
		for _, f := range fs {
			add(f, "")
		}
	}

	for _, v := range runs {
		vals := map[string]interface{}{}
		if v.Path != "" {
			vals, err = chartutil.ReadValuesFile(v.Path)
			if err != nil {
				add(finding.Finding{RuleID: RuleValues, Severity: finding.Error, File: v.Name, Line: 1,
					Message: fmt.Sprintf("values file cannot be read: %v", err)}, "")
				continue
			}
		}
		linter, logged := lintCapturingLog(lintDir, vals, ns, kube)
		for _, m := range linter.Messages {
			if names, ok := strings.CutPrefix(m.Err.Error(), missingDeps); ok {
				var missing []string
				for _, n := range strings.Split(names, ",") {
					if !failed[strings.TrimSpace(n)] { // said already, with why
						missing = append(missing, n)
					}
				}
				for _, f := range missingDependencies(dir, rel, missing) {
					add(f, "")
				}
				continue
			}
			add(toFinding(lintDir, rel, m), v.Name)
		}
		valuesFile := firstNonEmpty(v.Name, path.Join(rel, "values.yaml"))
		for _, msg := range logged.missing {
			// helm lint only logs a failed `required`, but the chart
			// cannot render for this environment: that is an error.
			add(finding.Finding{RuleID: RuleValues, Severity: finding.Error, File: valuesFile,
				Message: "missing required value: " + msg}, "")
		}
		// Lint mode makes `fail` log its message and go on; the chart
		// author meant it to stop the render, so it is an error, on the
		// template line that calls it when a render outside lint mode
		// finds that line, else on the values file.
		var at map[string]where
		if len(logged.fails) > 0 {
			at = failLocations(lintDir, vals, ns, kube)
		}
		for _, msg := range logged.fails {
			if w, ok := at[msg]; ok {
				add(finding.Finding{RuleID: RuleTemplates, Severity: finding.Error, File: path.Join(rel, w.file),
					Line: w.line, Column: w.col, Message: msg}, v.Name)
				continue
			}
			add(finding.Finding{RuleID: RuleTemplates, Severity: finding.Error, File: valuesFile, Message: msg}, "")
		}
	}

	var out []finding.Finding
	for _, key := range order {
		s := byKey[key]
		if len(runs) > 1 && len(s.values) > 0 && len(s.values) < len(runs) {
			s.f.Message += " (with values " + strings.Join(s.values, ", ") + ")"
		}
		out = append(out, s.f)
	}
	finding.Sort(out)
	return out, nil
}

// logMu serialises lint runs: helm reports missing required values and
// fail messages through the standard logger, which is process-wide.
var logMu sync.Mutex

// logged is what helm's lint mode logs instead of failing.
type logged struct {
	missing []string // messages of `required` calls without a value
	fails   []string // messages of `fail` calls
}

// Write takes one log entry: the log package writes each entry in one call,
// so a message of several lines stays whole.
func (l *logged) Write(p []byte) (int, error) {
	entry := strings.TrimSuffix(string(p), "\n")
	if msg, ok := strings.CutPrefix(entry, "[INFO] Missing required value: "); ok {
		l.missing = append(l.missing, strings.TrimSpace(msg))
	} else if msg, ok := strings.CutPrefix(entry, "[INFO] Fail: "); ok {
		l.fails = append(l.fails, msg)
	}
	return len(p), nil
}

func lintCapturingLog(dir string, vals map[string]interface{}, ns string, kube *chartutil.KubeVersion) (support.Linter, *logged) {
	logMu.Lock()
	defer logMu.Unlock()
	var l logged
	prevOut, prevFlags, prevPrefix := log.Writer(), log.Flags(), log.Prefix()
	log.SetOutput(&l)
	log.SetFlags(0)
	log.SetPrefix("")
	defer func() {
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
		log.SetPrefix(prevPrefix)
	}()
	linter := lint.AllWithKubeVersion(dir, vals, ns, kube)
	return linter, &l
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// templatePos finds "<chart>/templates/x.yaml:12:5:" in a template error.
var templatePos = regexp.MustCompile(`(templates/[^\s:]+):(\d+)(?::(\d+))?`)

func toFinding(dir, rel string, m support.Message) finding.Finding {
	p := strings.TrimSuffix(m.Path, "/")
	if filepath.IsAbs(p) {
		// Some rules name the chart by helm's absolute path to it.
		if r, err := filepath.Rel(dir, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			p = filepath.ToSlash(r)
		}
	}
	f := finding.Finding{
		RuleID:   ruleFor(p),
		Severity: severity(m.Severity),
		File:     path.Join(rel, p),
		Message:  m.Err.Error(),
	}
	if sub := templatePos.FindStringSubmatch(f.Message); sub != nil {
		f.File = path.Join(rel, sub[1])
		f.Line, _ = strconv.Atoi(sub[2])
		if sub[3] != "" {
			f.Column, _ = strconv.Atoi(sub[3])
		}
	}
	return f
}

func ruleFor(p string) string {
	switch {
	case p == "Chart.yaml":
		return RuleMetadata
	case strings.HasPrefix(p, "values"):
		return RuleValues
	case strings.HasPrefix(p, "templates"):
		return RuleTemplates
	}
	return RuleChart
}

func severity(s int) finding.Severity {
	switch s {
	case support.ErrorSev:
		return finding.Error
	case support.WarningSev:
		return finding.Warning
	}
	return finding.Info
}

// missingDeps starts helm lint's message for dependencies of Chart.yaml
// that charts/ lacks.
const missingDeps = "chart directory is missing these dependencies: "

// missingDependencies reports dependencies Chart.yaml declares that are not
// in charts/ as errors, each on its line of Chart.yaml. helm lint only
// warns, but without them the chart does not render (helm template and
// helm install refuse it, and so does validate), so lint says so as
// validate does, fix included.
func missingDependencies(dir, rel string, names []string) []finding.Finding {
	chartfile := path.Join(rel, "Chart.yaml")
	meta, err := chartutil.LoadChartfile(filepath.Join(dir, "Chart.yaml"))
	src, _ := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	var out []finding.Finding
	for _, name := range names {
		what, local, orUpdate := "dependency "+name, "", ""
		if err == nil {
			for _, d := range meta.Dependencies {
				if d.Name == name {
					what = strings.TrimSpace(fmt.Sprintf("dependency %s %s", d.Name, d.Version))
					if d.Repository != "" {
						what += " from " + d.Repository
					}
					local = localDependency(dir, d.Repository)
					if strings.HasPrefix(d.Repository, "http://") || strings.HasPrefix(d.Repository, "https://") {
						orUpdate = ", or lint and validate with --dependency-update"
					}
					break
				}
			}
		}
		f := finding.Finding{RuleID: RuleChart, Severity: finding.Error, File: chartfile, Line: dependencyLine(src, name),
			Message: fmt.Sprintf("%s is in Chart.yaml but not in %s: run helm dependency build %s (it fetches what Chart.lock pins into charts/)%s",
				what, path.Join(rel, "charts"), rel, orUpdate)}
		if local != "" {
			// validate renders it from there, as helm dependency build
			// would copy it: only helm itself needs the build first.
			f.Severity = finding.Warning
			f.Message = fmt.Sprintf("%s is in Chart.yaml but not in %s: validate and gitops-pr load it from %s, helm template and helm install need helm dependency build %s first",
				what, path.Join(rel, "charts"), local, rel)
		}
		out = append(out, f)
	}
	return out
}

// localDependency is the chart a file:// repository points to, relative to
// the chart's directory as written, when it is there; "" otherwise.
func localDependency(dir, repository string) string {
	p, ok := strings.CutPrefix(repository, "file://")
	if !ok {
		return ""
	}
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(dir, p)
	}
	if _, err := os.Stat(filepath.Join(abs, "Chart.yaml")); err != nil {
		if fi, err := os.Stat(abs); err != nil || fi.IsDir() { // a chart archive is a file
			return ""
		}
	}
	return p
}

// dependencyLine finds the "name: <name>" of a dependency in Chart.yaml's
// text, 0 when it is not spelled plainly.
func dependencyLine(src []byte, name string) int {
	in := false
	for i, line := range strings.Split(string(src), "\n") {
		text := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "dependencies:"):
			in = true
		case in && len(line) > 0 && line[0] != ' ' && line[0] != '-' && line[0] != '#':
			in = false
		case in:
			text = strings.TrimSpace(strings.TrimPrefix(text, "- "))
			if v, ok := strings.CutPrefix(text, "name:"); ok && strings.Trim(strings.TrimSpace(v), `"'`) == name {
				return i + 1
			}
		}
	}
	return 0
}
