package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// schemaStoreFile is SchemaStore's Cloud Build config schema
// (https://json.schemastore.org/cloudbuild, src/schemas/json/cloudbuild.json
// in SchemaStore/schemastore, Apache-2.0), kept here so the test runs
// offline.
var schemaStoreFile = filepath.Join("testdata", "cloudbuild.schemastore.json")

func schemaStore(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(schemaStoreFile)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is missing: put SchemaStore's cloudbuild.json there", schemaStoreFile)
	}
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", schemaStoreFile, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("https://json.schemastore.org/cloudbuild", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("https://json.schemastore.org/cloudbuild")
	if err != nil {
		t.Fatalf("compile %s: %v", schemaStoreFile, err)
	}
	return s
}

func validateConfig(s *jsonschema.Schema, yml []byte) error {
	js, err := yaml.YAMLToJSON(yml)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// TestConfigsMatchSchemaStore validates every cloudbuild/*.yaml against
// SchemaStore's schema, the one editors use, and shows it catches what it
// is for: a number where a string goes, a timeout that is not seconds, a
// substitutionOption that does not exist, no steps.
func TestConfigsMatchSchemaStore(t *testing.T) {
	s := schemaStore(t)
	paths, _ := filepath.Glob(filepath.Join("..", "..", "cloudbuild", "*.yaml"))
	if len(paths) == 0 {
		t.Fatal("no cloudbuild/*.yaml")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateConfig(s, data); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	good := "steps:\n  - name: gcr.io/cloud-builders/docker\n    args: ['version']\ntimeout: 600s\noptions:\n  substitutionOption: ALLOW_LOOSE\n"
	if err := validateConfig(s, []byte(good)); err != nil {
		t.Fatalf("the good config: %v", err)
	}
	for _, tt := range []struct{ name, from, to, want string }{
		{"number arg", "['version']", "[1]", "/steps/0/args/0"},
		{"timeout in minutes", "600s", "10m", "/timeout"},
		{"unknown substitutionOption", "ALLOW_LOOSE", "LOOSE", "/options/substitutionOption"},
		{"no steps", "steps:", "stages:", "steps"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := validateConfig(s, []byte(strings.Replace(good, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one at %s", err, tt.want)
			}
		})
	}
}
