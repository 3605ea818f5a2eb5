package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the part of a Cloud Build config (the Build resource) the
// emulator runs.
type Config struct {
	Steps           []Step            `yaml:"steps"`
	Substitutions   map[string]string `yaml:"substitutions"`
	Options         Options           `yaml:"options"`
	AvailableSecret struct {
		SecretManager []struct {
			VersionName string `yaml:"versionName"`
			Env         string `yaml:"env"`
		} `yaml:"secretManager"`
	} `yaml:"availableSecrets"`
	Timeout string   `yaml:"timeout"`
	Images  []string `yaml:"images"`
}

// Options are the build's options the emulator honours.
type Options struct {
	Env                  []string `yaml:"env"`
	SecretEnv            []string `yaml:"secretEnv"`
	Volumes              []Volume `yaml:"volumes"`
	SubstitutionOption   string   `yaml:"substitutionOption"`
	AutomapSubstitutions bool     `yaml:"automapSubstitutions"`
}

// Volume is a named volume mounted at Path in the steps that list it.
type Volume struct {
	Name string `yaml:"name"`
	Path string `yaml:"path"`
}

// Step is one build step.
type Step struct {
	Name                 string   `yaml:"name"`
	Args                 []string `yaml:"args"`
	Env                  []string `yaml:"env"`
	Dir                  string   `yaml:"dir"`
	ID                   string   `yaml:"id"`
	WaitFor              []string `yaml:"waitFor"`
	Entrypoint           string   `yaml:"entrypoint"`
	SecretEnv            []string `yaml:"secretEnv"`
	Volumes              []Volume `yaml:"volumes"`
	Timeout              string   `yaml:"timeout"`
	Script               string   `yaml:"script"`
	AutomapSubstitutions *bool    `yaml:"automapSubstitutions"`
	AllowFailure         bool     `yaml:"allowFailure"`
	AllowExitCodes       []int    `yaml:"allowExitCodes"`
}

// builtins are the substitutions Cloud Build provides (for every build,
// for triggered builds); GitHub pull-request triggers add _HEAD_BRANCH,
// _BASE_BRANCH, _HEAD_REPO_URL and _PR_NUMBER, which are user-style names.
var builtins = []string{"PROJECT_ID", "BUILD_ID", "PROJECT_NUMBER", "LOCATION",
	"TRIGGER_NAME", "COMMIT_SHA", "REVISION_ID", "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME",
	"TAG_NAME", "REF_NAME", "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT"}

var triggerSubstitutions = []string{"_HEAD_BRANCH", "_BASE_BRANCH", "_HEAD_REPO_URL", "_PR_NUMBER"}

// LoadConfig reads a YAML (or JSON) build config.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("build config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("build config %s: %w", path, err)
	}
	if len(c.Steps) == 0 {
		return nil, fmt.Errorf("build config %s: no steps", path)
	}
	ids := map[string]int{}
	for i, s := range c.Steps {
		if s.Name == "" {
			return nil, fmt.Errorf("build config %s: step %d has no name (the image to run)", path, i)
		}
		if s.Script != "" && (len(s.Args) > 0 || s.Entrypoint != "") {
			return nil, fmt.Errorf("build config %s: step %d: script with args or entrypoint", path, i)
		}
		for _, w := range s.WaitFor {
			if _, ok := ids[w]; !ok && w != "-" {
				return nil, fmt.Errorf("build config %s: step %d waits for %q, which is no earlier step's id", path, i, w)
			}
		}
		if s.ID != "" {
			if j, dup := ids[s.ID]; dup {
				return nil, fmt.Errorf("build config %s: steps %d and %d have the id %q", path, j, i, s.ID)
			}
			ids[s.ID] = i
		}
		if s.Timeout != "" {
			if _, err := time.ParseDuration(s.Timeout); err != nil {
				return nil, fmt.Errorf("build config %s: step %d: timeout %q: %w", path, i, s.Timeout, err)
			}
		}
	}
	return &c, nil
}

// Substitutions are the values of the build's substitutions: the
// built-ins the emulator was given, the config's user substitutions with
// the emulator's overrides.
func (c *Config) substitutions(given map[string]string) (map[string]string, error) {
	subs := map[string]string{}
	for k, v := range c.Substitutions {
		if !strings.HasPrefix(k, "_") {
			return nil, fmt.Errorf("substitution %q: user substitutions start with _", k)
		}
		subs[k] = v
	}
	for k, v := range given {
		if !strings.HasPrefix(k, "_") && !slices.Contains(builtins, k) {
			return nil, fmt.Errorf("substitution %s: neither built in nor a user substitution (_NAME)", k)
		}
		if _, declared := c.Substitutions[k]; strings.HasPrefix(k, "_") && !declared && !slices.Contains(triggerSubstitutions, k) &&
			c.Options.SubstitutionOption == "MUST_MATCH" {
			return nil, fmt.Errorf("substitution %s is not declared in the config (substitutionOption MUST_MATCH)", k)
		}
		subs[k] = v
	}
	// What Cloud Build derives.
	if sha := subs["COMMIT_SHA"]; sha != "" {
		if subs["REVISION_ID"] == "" {
			subs["REVISION_ID"] = sha
		}
		if subs["SHORT_SHA"] == "" {
			subs["SHORT_SHA"] = sha[:min(7, len(sha))]
		}
	}
	if subs["REF_NAME"] == "" {
		if b := subs["BRANCH_NAME"]; b != "" {
			subs["REF_NAME"] = b
		} else if t := subs["TAG_NAME"]; t != "" {
			subs["REF_NAME"] = t
		}
	}
	return subs, nil
}

var substitutionRE = regexp.MustCompile(`\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand substitutes $NAME and ${NAME} in s; $$ is a literal $. A name the
// build has no value for expands to "" under ALLOW_LOOSE and is an error
// under MUST_MATCH (Cloud Build's default for builds not started by a
// trigger).
func expand(s string, subs map[string]string, loose bool) (string, error) {
	var err error
	out := substitutionRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(m, "${"), "$"), "}")
		if v, ok := subs[name]; ok {
			return v
		}
		if !loose && err == nil {
			err = fmt.Errorf("%s has no value (substitutionOption MUST_MATCH; ALLOW_LOOSE makes it empty)", m)
		}
		return ""
	})
	return out, err
}
