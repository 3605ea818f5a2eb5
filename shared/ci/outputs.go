package ci

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gitship/gitship/shared/atomicfile"
)

// jsonOutputs collects outputs and writes them as one JSON object, the way
// Cloud Build steps (and local runs) hand results to the next step: only
// /workspace survives between Cloud Build steps.
type jsonOutputs struct {
	path   string
	values map[string]string
	// builderOutput is Cloud Build's $BUILDER_OUTPUT/output: what a step
	// writes there the build keeps in its results (buildStepOutputs, the
	// first 50 KB), where the build's API and console show it.
	builderOutput string
}

func newJSONOutputs(path string) *jsonOutputs {
	return &jsonOutputs{path: path, values: map[string]string{}}
}

func (o *jsonOutputs) set(out Output) {
	if o.path == "" {
		return
	}
	if out.Secret {
		// A secret is never written to a file in the workspace.
		o.values[out.Name] = ""
		return
	}
	o.values[out.Name] = out.Value
}

// write replaces the file whole (atomicfile: temp file + rename) so a
// reader never sees half of it. The file is 0644: on Cloud Build every step
// is a container of its own image, often with another user than the one
// that wrote the file (gitship's images run as root), and a later step
// must be able to read it.
func (o *jsonOutputs) write() error {
	if o.path == "" || len(o.values) == 0 {
		return nil
	}
	data, err := json.MarshalIndent(o.values, "", "  ")
	if err != nil {
		return fmt.Errorf("encode outputs: %w", err)
	}
	for _, path := range []string{o.path, o.builderOutput} {
		if path == "" {
			continue
		}
		if err := atomicfile.Write(path, func(w io.Writer) error {
			_, err := w.Write(append(data, '\n'))
			return err
		}); err != nil {
			return fmt.Errorf("outputs file: %w", err)
		}
	}
	return nil
}

// cloudBuildOutputs are the outputs of a Cloud Build step: the JSON file
// in the workspace for later steps, and the same JSON as the step's
// $BUILDER_OUTPUT/output, which Cloud Build keeps in the build's
// results.buildStepOutputs: so publish's image, by digest, is recorded in
// the build's results (cloudbuild/README.md says why not images:).
func cloudBuildOutputs(path string, env Env) *jsonOutputs {
	o := newJSONOutputs(path)
	if dir := env["BUILDER_OUTPUT"]; dir != "" && path != "" {
		o.builderOutput = filepath.Join(dir, "output")
	}
	return o
}

// ReadOutputs reads a JSON outputs file written by an earlier step.
func ReadOutputs(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read outputs: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read outputs %s: %w", path, err)
	}
	return m, nil
}

func writeSummaryFile(path, markdown string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("summary %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(markdown), 0o644); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}
