package dockerfile

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitship/gitship/shared/finding"
)

// Config is the part of a .hadolint.yaml that gitship honours.
type Config struct {
	Ignored  []string                    // rule IDs never reported
	Override map[string]finding.Severity // rule ID -> severity, from hadolint's override: {error: [...], warning: [...], info: [...], style: [...]}
	// TrustedRegistries are the registries base images may come from
	// (DL3026); empty allows all. "*.example.com" matches subdomains.
	TrustedRegistries []string
	// LabelSchema maps label keys to their type (text, url, email, hash,
	// rfc3339, semver, spdx): each stage must set them (DL3049), with a
	// value of that type (DL3051-DL3058). StrictLabels forbids labels
	// outside the schema (DL3050).
	LabelSchema  map[string]string
	StrictLabels bool
}

// LoadConfig reads a .hadolint.yaml (keys: ignored, override,
// trustedRegistries, label-schema, strict-labels; other keys of hadolint
// such as failure-threshold are accepted and ignored). Errors name the file and, for YAML errors, the line.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	return ParseConfig(path, data)
}

// hadolintFile is the shape of the keys gitship reads. Every other key is
// left to yaml.v3 to skip, so a full hadolint config loads unchanged.
type hadolintFile struct {
	Ignored           []string  `yaml:"ignored"`
	Override          yaml.Node `yaml:"override"`
	TrustedRegistries []string  `yaml:"trustedRegistries"`
	LabelSchema       yaml.Node `yaml:"label-schema"`
	StrictLabels      bool      `yaml:"strict-labels"`
}

// overrideOrder is the order the override lists are applied in; a rule that
// appears in two lists gets the later one, as in hadolint.
var overrideOrder = []string{"error", "warning", "info", "style"}

// ParseConfig is LoadConfig on bytes; name is used in error messages.
func ParseConfig(name string, data []byte) (Config, error) {
	var f hadolintFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		// yaml.v3 errors already read "yaml: line N: ...".
		return Config{}, fmt.Errorf("parse %s: %w", name, err)
	}
	cfg := Config{TrustedRegistries: f.TrustedRegistries, StrictLabels: f.StrictLabels}
	schema, err := labelSchema(name, &f.LabelSchema)
	if err != nil {
		return Config{}, err
	}
	cfg.LabelSchema = schema
	for _, id := range f.Ignored {
		if id = normalizeID(id); id != "" {
			cfg.Ignored = append(cfg.Ignored, id)
		}
	}
	lists, err := overrideLists(name, &f.Override)
	if err != nil {
		return Config{}, err
	}
	for _, key := range overrideOrder {
		sev, _ := finding.ParseSeverity(key)
		for _, id := range lists[key] {
			if id = normalizeID(id); id == "" {
				continue
			}
			if cfg.Override == nil {
				cfg.Override = map[string]finding.Severity{}
			}
			cfg.Override[id] = sev
		}
	}
	return cfg, nil
}

// overrideLists checks the override mapping by hand so that a misspelt
// severity is reported with its line instead of being dropped.
func overrideLists(name string, n *yaml.Node) (map[string][]string, error) {
	lists := map[string][]string{}
	if n.Kind == 0 || n.Tag == "!!null" {
		return lists, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse %s: line %d: override must be a mapping of severity to rule IDs", name, n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := strings.ToLower(k.Value)
		if !slices.Contains(overrideOrder, key) {
			return nil, fmt.Errorf("parse %s: line %d: unknown override severity %q (want error, warning, info or style)", name, k.Line, k.Value)
		}
		var ids []string
		if err := v.Decode(&ids); err != nil {
			return nil, fmt.Errorf("parse %s: line %d: override %s must be a list of rule IDs", name, v.Line, key)
		}
		lists[key] = append(lists[key], ids...)
	}
	return lists, nil
}

func normalizeID(id string) string {
	return strings.ToUpper(strings.TrimSpace(id))
}

// labelSchema reads label-schema: a mapping of label key to type, each
// type one hadolint knows, so that a misspelt type is reported with its
// line instead of being ignored.
func labelSchema(name string, n *yaml.Node) (map[string]string, error) {
	if n.Kind == 0 || n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse %s: line %d: label-schema must be a mapping of label to type", name, n.Line)
	}
	schema := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		typ := strings.ToLower(strings.TrimSpace(v.Value))
		if v.Kind != yaml.ScalarNode || !slices.Contains(labelTypes, typ) {
			return nil, fmt.Errorf("parse %s: line %d: label-schema type of %q is %q; want one of %s", name, v.Line, k.Value, v.Value, strings.Join(labelTypes, ", "))
		}
		schema[k.Value] = typ
	}
	return schema, nil
}
