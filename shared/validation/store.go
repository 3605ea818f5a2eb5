package validation

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gitship/gitship/shared/atomicfile"
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
	// lazy are CRDs not converted yet, by group + " " + kind: converting
	// is most of the cost of a CRD, and a run meets few of the kinds it
	// is given.
	lazy   map[string]*lazyCRD
	failed []*lazyCRD // converted with an error
	// converted are the schemas of every CRD converted, by its content:
	// a chart's crds/ given with --crd too is converted once.
	converted map[[sha256.Size]byte][]schema.CRDSchema
	// cache is Options.CRDCache.
	cache string
}

// lazyCRD is a CustomResourceDefinition converted when first needed.
type lazyCRD struct {
	name string
	doc  []byte
	key  string // group + " " + kind
	// given is a --crd file's: one that does not convert is bad input.
	// A rendered CRD that does not convert is that resource's verdict.
	given bool
	// prev is the definition of the kind it replaced, restored when a
	// rendered CRD does not convert: the kind's resources are then judged
	// by it, as when every CRD was converted up front.
	prev *lazyCRD
	once sync.Once
	err  error
}

func newStore(strict bool, catalogs map[string]*schema.Catalog) (*store, error) {
	dir, err := os.MkdirTemp("", "gitship-schemas-")
	if err != nil {
		return nil, fmt.Errorf("schema directory: %w", err)
	}
	return &store{dir: dir, strict: strict, catalogs: catalogs,
		crds: map[string][]byte{}, written: map[string][]byte{}, origin: map[string]string{}, crdFrom: map[string]string{},
		lazy: map[string]*lazyCRD{}, converted: map[[sha256.Size]byte][]schema.CRDSchema{}}, nil
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
	derived, err := s.derive(name, doc)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.install(name, derived)
	return derived, nil
}

// derive converts a CRD, or finds it converted already (in this run, or in
// the cache).
func (s *store) derive(name string, doc []byte) ([]schema.CRDSchema, error) {
	sum := sha256.Sum256(doc)
	s.mu.Lock()
	derived, ok := s.converted[sum]
	s.mu.Unlock()
	if ok {
		return derived, nil
	}
	if derived, ok = s.cached(sum); !ok {
		var err error
		if derived, err = schema.FromCRD(name, doc, s.strict); err != nil {
			return nil, err
		}
		s.keep(sum, derived)
	}
	s.mu.Lock()
	s.converted[sum] = derived
	s.mu.Unlock()
	return derived, nil
}

// install makes derived the schemas of its kinds; s.mu is held.
func (s *store) install(name string, derived []schema.CRDSchema) {
	for _, d := range derived {
		delete(s.lazy, d.Group+" "+d.Kind) // the later definition wins
	}
	for _, d := range derived {
		if !d.Served {
			continue
		}
		key := d.Group + "/" + d.Version + " " + d.Kind
		s.crds[key] = d.Schema
		s.crdFrom[key] = name
	}
}

// addCRDLazily is addCRD deferred until a resource of the CRD's kind is
// met (prepare), or the CRD itself is checked (Validate); false when the
// CRD is not plain enough to tell its kind without converting it: addCRD
// it then. given marks a --crd file's.
func (s *store) addCRDLazily(name string, doc []byte, given bool) (*lazyCRD, bool) {
	h, ok := schema.ReadCRDHeader(doc)
	if !ok {
		return nil, false
	}
	l := &lazyCRD{name: name, doc: doc, key: h.Group + " " + h.Kind, given: given}
	s.mu.Lock()
	defer s.mu.Unlock()
	l.prev = s.lazy[l.key]
	s.lazy[l.key] = l // the later definition wins
	return l, true
}

// convertLazy converts l once, and installs its schemas unless a later
// definition of its kind replaced it meanwhile.
func (s *store) convertLazy(l *lazyCRD) error {
	l.once.Do(func() {
		derived, err := s.derive(l.name, l.doc)
		s.mu.Lock()
		defer s.mu.Unlock()
		current := s.lazy[l.key] == l
		if err != nil {
			l.err = err
			if l.given {
				s.failed = append(s.failed, l)
			}
			if current && l.prev != nil && !l.given {
				s.lazy[l.key] = l.prev
			} else if current {
				delete(s.lazy, l.key)
			}
			return
		}
		if current {
			s.install(l.name, derived)
		}
	})
	return l.err
}

// lazyErrors are the errors of the lazy CRDs converted so far.
func (s *store) lazyErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, l := range s.failed {
		errs = append(errs, l.err)
	}
	return errs
}

// convert converts the lazy CRD of apiVersion's group and kind, if any.
func (s *store) convert(apiVersion, kind string) error {
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return nil // the core group has no custom resources
	}
	for {
		s.mu.Lock()
		l := s.lazy[group+" "+kind]
		s.mu.Unlock()
		if l == nil {
			return nil
		}
		err := s.convertLazy(l)
		if err == nil {
			return nil
		}
		if l.given {
			return err
		}
		// A rendered CRD that does not convert is invalid itself
		// (Validate). Its custom resources are judged by the definition
		// it replaced, if any, now in its place; else they have no
		// schema, as kubeconform says.
		s.mu.Lock()
		next := s.lazy[group+" "+kind]
		s.mu.Unlock()
		if next == l {
			return nil
		}
	}
}

// prepare writes the schema of kind for k8sVersion where kubeconform will
// look, and returns it with a name for messages; nil when gitship has none
// (kubeconform then tries the user's locations).
func (s *store) prepare(k8sVersion, apiVersion, kind string) (doc []byte, origin string, err error) {
	if err := s.convert(apiVersion, kind); err != nil {
		return nil, "", fmt.Errorf("--crd: %w", err)
	}
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

// cachePath is where the cache keeps the schemas of the CRD whose content
// hashes to sum, strict and not apart.
func (s *store) cachePath(sum [sha256.Size]byte) string {
	mode := "lax"
	if s.strict {
		mode = "strict"
	}
	return filepath.Join(s.cache, "crd", fmt.Sprintf("%x-%s-%s.json", sum, mode, cacheFormat))
}

// cacheFormat changes whenever the conversion does, so a cache never
// serves what an older gitship converted.
const cacheFormat = "v1"

// cached reads the schemas of a CRD from the cache; false when there is
// no cache, no entry, or one that does not read back.
func (s *store) cached(sum [sha256.Size]byte) ([]schema.CRDSchema, bool) {
	if s.cache == "" {
		return nil, false
	}
	b, err := os.ReadFile(s.cachePath(sum))
	if err != nil {
		return nil, false
	}
	var derived []schema.CRDSchema
	if err := json.Unmarshal(b, &derived); err != nil || len(derived) == 0 {
		return nil, false
	}
	for _, d := range derived {
		if d.Group == "" || d.Kind == "" || d.Version == "" || !json.Valid(d.Schema) {
			return nil, false
		}
	}
	return derived, true
}

// keep writes the schemas of a CRD to the cache. A cache that cannot be
// written costs the next run a conversion, nothing more.
func (s *store) keep(sum [sha256.Size]byte, derived []schema.CRDSchema) {
	if s.cache == "" || len(derived) == 0 {
		return
	}
	p := s.cachePath(sum)
	if os.MkdirAll(filepath.Dir(p), 0o755) != nil {
		return
	}
	_ = atomicfile.Write(p, func(w io.Writer) error { return json.NewEncoder(w).Encode(derived) })
}
