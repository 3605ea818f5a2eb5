package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	subs := map[string]string{"PROJECT_ID": "acme", "_AR_HOST": "r.example", "BRANCH_NAME": ""}
	tests := []struct {
		in, want string
		loose    bool
		err      string
	}{
		{"${_AR_HOST}/$PROJECT_ID/app", "r.example/acme/app", true, ""},
		{"$$HOME and $${x:-}", "$HOME and ${x:-}", true, ""},
		{"[$BRANCH_NAME]", "[]", false, ""},
		{"tag $TAG_NAME", "tag ", true, ""},
		{"tag $TAG_NAME", "", false, "$TAG_NAME has no value"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, subs, tt.loose)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("expand(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSubstitutions(t *testing.T) {
	c := &Config{Substitutions: map[string]string{"_A": "default", "_B": "b"}}
	got, err := c.substitutions(map[string]string{"_A": "given", "COMMIT_SHA": "0123456789", "TAG_NAME": "v1"})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"_A": "given", "_B": "b", "SHORT_SHA": "0123456", "REVISION_ID": "0123456789", "REF_NAME": "v1"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := c.substitutions(map[string]string{"HOME": "/"}); err == nil {
		t.Error("HOME was taken as a substitution")
	}
	c.Options.SubstitutionOption = "MUST_MATCH"
	if _, err := c.substitutions(map[string]string{"_C": "x"}); err == nil {
		t.Error("an undeclared _C was taken under MUST_MATCH")
	}
}

func TestLoadConfigRejects(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"no steps", "steps: []\n", "no steps"},
		{"no name", "steps:\n  - args: ['x']\n", "has no name"},
		{"waits for a later step", "steps:\n  - name: a\n    waitFor: ['b']\n  - name: b\n    id: b\n", `waits for "b"`},
		{"duplicate id", "steps:\n  - name: a\n    id: x\n  - name: b\n    id: x\n", `the id "x"`},
		{"bad timeout", "steps:\n  - name: a\n    timeout: soon\n", "timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(p, []byte(tt.yaml), 0o644)
			_, err := LoadConfig(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// The repository's configs load: every waitFor names an earlier step.
func TestRepositoryConfigsLoad(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "cloudbuild", "*.yaml"))
	if len(paths) == 0 {
		t.Fatal("no cloudbuild/*.yaml")
	}
	for _, p := range paths {
		if _, err := LoadConfig(p); err != nil {
			t.Error(err)
		}
	}
}
