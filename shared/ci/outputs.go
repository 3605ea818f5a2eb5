package ci

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// jsonOutputs collects outputs and writes them as one JSON object, the way
// Cloud Build steps (and local runs) hand results to the next step: only
// /workspace survives between Cloud Build steps.
type jsonOutputs struct {
	path   string
	values map[string]string
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

// write replaces the file whole (temp file + rename) so a reader never sees
// half of it.
func (o *jsonOutputs) write() error {
	if o.path == "" || len(o.values) == 0 {
		return nil
	}
	data, err := json.MarshalIndent(o.values, "", "  ")
	if err != nil {
		return fmt.Errorf("encode outputs: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.path), 0o755); err != nil {
		return fmt.Errorf("outputs file %s: %w", o.path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.path), ".outputs-*")
	if err != nil {
		return fmt.Errorf("outputs file %s: %w", o.path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write outputs file %s: %w", o.path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write outputs file %s: %w", o.path, err)
	}
	if err := os.Rename(tmp.Name(), o.path); err != nil {
		return fmt.Errorf("write outputs file %s: %w", o.path, err)
	}
	return nil
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
