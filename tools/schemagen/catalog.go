package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	extensionsopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	aggregatoropenapi "k8s.io/kube-aggregator/pkg/generated/openapi"
	kubeopenapi "k8s.io/kubernetes/pkg/generated/openapi"

	extensionsscheme "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/scheme"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	aggregatorscheme "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset/scheme"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// catalog is the file format shared/schema reads; keep the two in step.
type catalog struct {
	Version     string         `json:"version"`
	Kinds       []kind         `json:"kinds"`
	Definitions map[string]any `json:"definitions"`
}

type kind struct {
	Group      string `json:"group"`
	Version    string `json:"version"`
	Kind       string `json:"kind"`
	Definition string `json:"definition"`
}

// build collects the definitions of every kind the API server of the release
// serves (listed in swagger, the OpenAPI document it publishes) and of what
// they refer to.
func build(version, swagger string) (*catalog, error) {
	defs, err := definitions()
	if err != nil {
		return nil, err
	}
	served, err := servedGVKs(swagger)
	if err != nil {
		return nil, err
	}
	kinds, err := servedKinds(defs, served)
	if err != nil {
		return nil, err
	}
	roots := make([]string, len(kinds))
	for i, k := range kinds {
		roots[i] = k.Definition
	}
	reach, err := reachable(defs, roots)
	if err != nil {
		return nil, err
	}
	return &catalog{Version: version, Kinds: kinds, Definitions: reach}, nil
}

// modelName is the name the API server publishes a Go type under
// (io.k8s.api.apps.v1.Deployment). Older releases key their definitions by
// Go path (k8s.io/api/apps/v1.Deployment), newer ones by this name already;
// a Go path has a slash, which a JSON pointer would have to escape.
func modelName(name string) string {
	if strings.Contains(name, "/") {
		return util.ToRESTFriendlyName(name)
	}
	return name
}

// definitions merges the generated OpenAPI definitions of kubernetes, the
// apiextensions-apiserver (CustomResourceDefinition) and the kube-aggregator
// (APIService), cleaned and keyed by model name.
func definitions() (map[string]any, error) {
	ref := func(name string) spec.Ref { return spec.MustCreateRef("#/definitions/" + modelName(name)) }
	out := map[string]any{}
	for _, get := range []func(common.ReferenceCallback) map[string]common.OpenAPIDefinition{
		kubeopenapi.GetOpenAPIDefinitions,
		extensionsopenapi.GetOpenAPIDefinitions,
		aggregatoropenapi.GetOpenAPIDefinitions,
	} {
		for name, def := range get(ref) {
			s, err := clean(def.Schema)
			if err != nil {
				return nil, fmt.Errorf("definition %s: %w", name, err)
			}
			out[modelName(name)] = s
		}
	}
	// The two types that are not what their definition says: both take a
	// JSON string or number. Quantity is declared a string, yet `cpu: 1` is
	// accepted by the API server and every tool; a number is what
	// openapi2jsonschema allows too.
	out["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = map[string]any{"type": []any{"integer", "string"}}
	out["io.k8s.apimachinery.pkg.api.resource.Quantity"] = map[string]any{"type": []any{"number", "string"}}
	return out, nil
}

// servedKinds maps every served kind to its definition through the client
// schemes: a registered Go type's path and name is what its definition is
// named after.
func servedKinds(defs map[string]any, served map[schema.GroupVersionKind]bool) ([]kind, error) {
	var kinds []kind
	found := map[schema.GroupVersionKind]bool{}
	for _, s := range []*runtime.Scheme{scheme.Scheme, extensionsscheme.Scheme, aggregatorscheme.Scheme} {
		for gvk, t := range s.AllKnownTypes() {
			if !served[gvk] || !resource(gvk, t) || found[gvk] {
				continue
			}
			k := kind{gvk.Group, gvk.Version, gvk.Kind, modelName(t.PkgPath() + "." + t.Name())}
			if _, ok := defs[k.Definition]; !ok {
				return nil, fmt.Errorf("%s: no definition %s", gvk, k.Definition)
			}
			found[gvk] = true
			kinds = append(kinds, k)
		}
	}
	for gvk := range served {
		if !found[gvk] && resource(gvk, nil) {
			return nil, fmt.Errorf("%s is served but no client scheme registers it", gvk)
		}
	}
	sort.Slice(kinds, func(i, j int) bool {
		a, b := kinds[i], kinds[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Kind < b.Kind
	})
	return kinds, nil
}

// resource drops what a manifest never holds: lists, the meta types every
// group version registers (Status, WatchEvent, ListOptions...) and the
// options of subresources (PodLogOptions).
// The swagger document has no Go types: there the meta kinds go by name.
func resource(gvk schema.GroupVersionKind, t reflect.Type) bool {
	switch {
	case gvk.Version == runtime.APIVersionInternal,
		strings.HasSuffix(gvk.Kind, "List"),
		strings.HasSuffix(gvk.Kind, "Options"),
		t != nil && strings.HasPrefix(t.PkgPath(), "k8s.io/apimachinery/pkg/apis/meta/"),
		t == nil && metaKinds[gvk.Kind]:
		return false
	}
	return true
}

var metaKinds = map[string]bool{"Status": true, "WatchEvent": true, "APIGroup": true, "APIVersions": true}
