package validation

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/gitship/gitship/shared/schema"
)

// store lays the embedded and CRD schemas out on disk as a kubeconform
// schema location, one file per kind and Kubernetes version, written the
// first time a resource needs it: kubeconform loads schemas from locations
// only, and writing the few kinds a run meets costs far less than writing
// every kind of every version up front.
type store struct {
	dir      string
	strict   bool
	catalogs map[string]*schema.Catalog // by the version asked for

	mu      sync.Mutex
	crds    map[string][]byte // by apiVersion + " " + kind
	written map[string][]byte // file → schema, nil when there is none
	origin  map[string]string // file → where the schema comes from
	crdFrom map[string]string // apiVersion + " " + kind → CRD file
}

func newStore(strict bool, catalogs map[string]*schema.Catalog) (*store, error) {
	dir, err := os.MkdirTemp("", "gitship-schemas-")
	if err != nil {
		return nil, fmt.Errorf("schema directory: %w", err)
	}
	return &store{dir: dir, strict: strict, catalogs: catalogs,
		crds: map[string][]byte{}, written: map[string][]byte{}, origin: map[string]string{}, crdFrom: map[string]string{}}, nil
}

// location is the kubeconform template that finds the files of path.
func (s *store) location() string {
	return filepath.ToSlash(s.dir) + "/" + schema.LocationTemplate
}

// path is where kubeconform looks for kind's schema.
func (s *store) path(k8sVersion, apiVersion, kind string) string {
	return schema.LocationPath(s.dir, k8sVersion, apiVersion, kind, s.strict)
}

// addCRD makes the schemas of a CustomResourceDefinition's served versions
// available to every Kubernetes version; name is where it was read.
func (s *store) addCRD(name string, doc []byte) ([]schema.CRDSchema, error) {
	derived, err := schema.FromCRD(name, doc, s.strict)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range derived {
		if !d.Served {
			continue
		}
		key := d.Group + "/" + d.Version + " " + d.Kind
		s.crds[key] = d.Schema
		s.crdFrom[key] = name
	}
	return derived, nil
}

// prepare writes the schema of kind for k8sVersion where kubeconform will
// look, and returns it with a name for messages; nil when gitship has none
// (kubeconform then tries the user's locations).
func (s *store) prepare(k8sVersion, apiVersion, kind string) (doc []byte, origin string, err error) {
	p := s.path(k8sVersion, apiVersion, kind)
	s.mu.Lock()
	defer s.mu.Unlock()
	if doc, ok := s.written[p]; ok {
		return doc, s.origin[p], nil
	}
	key := apiVersion + " " + kind
	if crd, ok := s.crds[key]; ok {
		doc, origin = crd, "CRD "+s.crdFrom[key]
	} else if c := s.catalogs[k8sVersion]; c != nil {
		var found bool
		doc, found, err = c.Schema(apiVersion, kind, s.strict)
		if err != nil {
			return nil, "", fmt.Errorf("schema of %s %s: %w", apiVersion, kind, err)
		}
		if !found {
			doc = nil
		}
		origin = "Kubernetes " + c.Version()
	}
	if doc != nil {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, "", fmt.Errorf("write schema: %w", err)
		}
		if err := os.WriteFile(p, doc, 0o644); err != nil {
			return nil, "", fmt.Errorf("write schema: %w", err)
		}
	}
	s.written[p], s.origin[p] = doc, origin
	return doc, origin, nil
}

func (s *store) close() error { return os.RemoveAll(s.dir) }
