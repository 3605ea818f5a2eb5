package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Resource is one Kubernetes object as rendered, with its origin.
type Resource struct {
	APIVersion, Kind, Name, Namespace string

	// Source is the file a human edits to change this object, relative to
	// the working directory when the input was: the chart template (mapped
	// from Helm's "# Source:" comment, subcharts too), the manifest file, or
	// the kustomization file. Always forward slashes.
	Source string
	// Line is the 1-based line of Source where Data's first line is, when
	// Data is verbatim from Source (plain manifests, chart CRDs); 0 when
	// Data is rendered output.
	Line int
	// Indent is how many columns Data's lines were moved left from
	// Source's: a List item cut out of its List. Add it to a column of
	// Data to get Source's.
	Indent int
	// Stream names what produced the object, for grouping reports, e.g.
	// "chart deploy/chart (values dev.yaml)", "kustomize overlays/dev",
	// "manifests k8s/a.yaml", "stdin".
	Stream string
	// Index is the position within Stream, from 0.
	Index int
	// Hook is the helm.sh/hook annotation, if any.
	Hook string
	// Data is this one document as rendered, not re-encoded, so its lines
	// are the lines a reader saw. It is re-encoded only for a List item
	// that cannot be cut out of its List verbatim (flow style, JSON);
	// Line is 0 then.
	Data []byte
	// Versions are the Kubernetes versions (Capabilities.KubeVersion)
	// whose render has this document, when Sources.RenderFor rendered a
	// chart differently for different versions; nil means every version.
	Versions []string
	// Err is set on a document that cannot be read as an object, kept
	// (Sources.KeepUnreadable) so that the others are still validated;
	// its header fields are what could be read, Data the document as is.
	Err *DocumentError
}

// ErrInput is wrapped by errors about what the caller pointed at rather than
// what it contains: a missing file, chart or kustomization, a path or glob
// matching nothing, invalid --set syntax. A step exits 2 on it.
var ErrInput = errors.New("invalid input")

// MaxFileSize caps a manifest or values file (and stdin): a larger one is
// refused rather than read into memory.
const MaxFileSize = 64 << 20

// inputError keeps the message of err and adds ErrInput to its chain.
type inputError struct{ err error }

func (e inputError) Error() string   { return e.err.Error() }
func (e inputError) Unwrap() []error { return []error{ErrInput, e.err} }

func asInput(err error) error { return inputError{err} }

// Sources are the inputs of a render, as the steps' flags name them.
type Sources struct {
	Charts      []string // chart directories
	Values      []string // values files for every chart, in order
	Set         []string // helm --set values
	ReleaseName string
	Namespace   string
	Kustomize   []string // kustomization directories
	Manifests   []string // files, directories, globs; "-" is Stdin
	Stdin       io.Reader
	// KeepUnreadable makes a chart's or manifest file's document that is
	// not a Kubernetes object (no kind, invalid YAML) a Resource with Err
	// set rather than an error for the whole render.
	KeepUnreadable bool
	// DependencyUpdate fetches each chart's dependencies before it renders
	// (Chart.DependencyUpdate), each request within DependencyTimeout.
	DependencyUpdate  bool
	DependencyTimeout time.Duration
}

// Render renders every source in the order given: charts, Kustomize
// directories, then manifests. Charts render for kubeVersion
// (.Capabilities.KubeVersion). Errors name the flag and the source; a
// missing input wraps ErrInput. Progress goes to log.
func (s Sources) Render(ctx context.Context, kubeVersion string, log io.Writer) ([]Resource, error) {
	return s.RenderFor(ctx, []Capabilities{{KubeVersion: kubeVersion}}, log)
}

// RenderFor is Render for several Kubernetes versions: each chart renders
// once per entry of caps (see Capabilities), and a document rendered the
// same for every version is one Resource; one that only some versions
// render has Resource.Versions set. Kustomize directories and manifests do
// not depend on the version.
func (s Sources) RenderFor(ctx context.Context, caps []Capabilities, log io.Writer) ([]Resource, error) {
	var all []Resource
	for _, dir := range s.Charts {
		rs, err := renderChartFor(ctx, Chart{Dir: dir, Values: s.Values, Set: s.Set,
			ReleaseName: s.ReleaseName, Namespace: s.Namespace, KeepUnreadable: s.KeepUnreadable,
			DependencyUpdate: s.DependencyUpdate, DependencyTimeout: s.DependencyTimeout, Log: log}, caps)
		if err != nil {
			return nil, fmt.Errorf("--chart %s: %w", dir, err)
		}
		fmt.Fprintf(log, "chart %s: %d resources%s\n", dir, len(rs), differing(rs))
		all = append(all, rs...)
	}
	for _, dir := range s.Kustomize {
		rs, err := RenderKustomize(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("--kustomize %s: %w", dir, err)
		}
		fmt.Fprintf(log, "kustomize %s: %d resources\n", dir, len(rs))
		all = append(all, rs...)
	}
	if len(s.Manifests) > 0 {
		rs, err := readManifests(s.Manifests, s.Stdin, s.KeepUnreadable)
		if err != nil {
			return nil, fmt.Errorf("--manifests: %w", err)
		}
		fmt.Fprintf(log, "manifests: %d resources\n", len(rs))
		all = append(all, rs...)
	}
	return all, nil
}

// differing says how many resources only some Kubernetes versions render.
func differing(rs []Resource) string {
	n := 0
	for _, r := range rs {
		if r.Versions != nil {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d rendered for some of the Kubernetes versions only)", n)
}
