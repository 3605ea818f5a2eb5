package schema

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readCRD(t *testing.T, file string, strict bool) []CRDSchema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromCRD(file, b, strict)
	if err != nil {
		t.Fatalf("FromCRD(%s) = %v", file, err)
	}
	return got
}

func TestFromCRDVersions(t *testing.T) {
	got := readCRD(t, "crd/widgets.yaml", true)
	var versions []string
	for _, s := range got {
		versions = append(versions, strings.Join([]string{s.Group, s.Version, s.Kind}, "/"))
		if !s.Served {
			t.Errorf("%s: Served = false", s.Version)
		}
		if s.Storage != (s.Version == "v1") {
			t.Errorf("%s: Storage = %v", s.Version, s.Storage)
		}
	}
	want := []string{"example.com/v1/Widget", "example.com/v1beta1/Widget"}
	if !slices.Equal(versions, want) {
		t.Errorf("FromCRD() versions = %q, want %q", versions, want)
	}
}

func TestCustomResources(t *testing.T) {
	tests := []struct {
		crd, resource string
		strict, lax   []string // problems found by strict and non-strict schemas
	}{
		{crd: "crd/widgets.yaml", resource: "crd/widget-valid.yaml"},
		{crd: "crd/widgets.yaml", resource: "crd/widget-int-port.yaml"},
		{crd: "crd/widgets.yaml", resource: "crd/widget-v1beta1.yaml"},
		{
			crd: "crd/widgets.yaml", resource: "crd/widget-wrong-type.yaml",
			strict: []string{"/spec/config/level: type", "/spec/port: type", "/spec/size: type"},
			lax:    []string{"/spec/config/level: type", "/spec/port: type", "/spec/size: type"},
		},
		{
			crd: "crd/widgets.yaml", resource: "crd/widget-unknown-field.yaml",
			strict: []string{"/: additionalProperties", "/spec: additionalProperties"},
		},
		{
			crd: "crd/widgets.yaml", resource: "crd/widget-missing-required.yaml",
			strict: []string{"/spec/color: enum", "/spec/items/0: required", "/spec: required"},
			lax:    []string{"/spec/color: enum", "/spec/items/0: required", "/spec: required"},
		},
		{
			crd: "crd/v1beta1.yaml", resource: "crd/gizmo-invalid.yaml",
			strict: []string{"/spec/replicas: type"},
			lax:    []string{"/spec/replicas: type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			r, apiVersion, _ := readResource(t, tt.resource)
			for _, strict := range []bool{true, false} {
				var doc []byte
				for _, s := range readCRD(t, tt.crd, strict) {
					if s.Group+"/"+s.Version == apiVersion {
						doc = s.Schema
					}
				}
				if doc == nil {
					t.Fatalf("FromCRD(%s) has no schema for %s", tt.crd, apiVersion)
				}
				want := tt.lax
				if strict {
					want = tt.strict
				}
				if got := problems(t, compile(t, doc), r); !slices.Equal(got, want) {
					t.Errorf("strict=%v: problems = %q, want %q", strict, got, want)
				}
			}
		})
	}
}

func TestFromCRDErrors(t *testing.T) {
	tests := []struct {
		file string
		err  error  // errors.Is; nil: any
		want string // in the message
	}{
		{"crd/no-schema.yaml", ErrNoSchema, `crd/no-schema.yaml: CustomResourceDefinition "gadgets.example.com": version "v1"`},
		{"crd/not-a-crd.yaml", ErrNotCRD, `crd/not-a-crd.yaml: not a CustomResourceDefinition: apiVersion "v1", kind "ConfigMap"`},
		{"crd/malformed.yaml", nil, "crd/malformed.yaml: "},
		{"crd/ref.yaml", nil, `version "v1": $ref "#/definitions/Spec"`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = FromCRD(tt.file, b, true)
			if err == nil {
				t.Fatalf("FromCRD(%s) = nil, want an error", tt.file)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("FromCRD(%s) = %v, want %v", tt.file, err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("FromCRD(%s) = %v, want it to contain %q", tt.file, err, tt.want)
			}
		})
	}
}

func TestIsCRD(t *testing.T) {
	tests := []struct {
		apiVersion, kind string
		want             bool
	}{
		{"apiextensions.k8s.io/v1", "CustomResourceDefinition", true},
		{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", true},
		{"apiextensions.k8s.io/v2", "CustomResourceDefinition", false},
		{"apps/v1", "Deployment", false},
	}
	for _, tt := range tests {
		if got := IsCRD(tt.apiVersion, tt.kind); got != tt.want {
			t.Errorf("IsCRD(%q, %q) = %v, want %v", tt.apiVersion, tt.kind, got, tt.want)
		}
	}
}
