// Package sariftest checks SARIF documents against the SARIF 2.1.0 JSON
// schema kept in shared/finding/testdata, for tests of any package that
// writes SARIF.
package sariftest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validate returns an error naming the first place where data breaks the
// SARIF 2.1.0 schema.
func Validate(data []byte) error {
	_, self, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(self), "..", "..", "shared", "finding", "testdata", "sarif-schema-2.1.0.json")
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sarif schema: %w", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return fmt.Errorf("sarif schema %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		return fmt.Errorf("sarif schema: %w", err)
	}
	schema, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		return fmt.Errorf("sarif schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("sarif document: %w", err)
	}
	return schema.Validate(inst)
}
