package schema

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The embedded files (tools/schemagen writes them, see its write.go): one
// index a minor release, data/v1.NN.json.gz, naming each definition it needs
// by content hash, and the store, data/definitions.json.gz, holding each
// distinct definition of every release once, under its hash.
//
//go:embed data/*.json.gz
var data embed.FS

const storeFile = "data/definitions.json.gz"

// ErrUnknownVersion is returned by Lookup for a Kubernetes version with no
// embedded catalog.
var ErrUnknownVersion = errors.New("no schemas for this Kubernetes version")

// GVK names a kind: Group is empty for the core group ("v1").
type GVK struct{ Group, Version, Kind string }

// APIVersion is the kind's apiVersion as a manifest spells it: "apps/v1", "v1".
func (g GVK) APIVersion() string {
	if g.Group == "" {
		return g.Version
	}
	return g.Group + "/" + g.Version
}

// Catalog holds the schemas of the kinds one Kubernetes release serves. It
// is safe for concurrent use.
type Catalog struct {
	version string
	kinds   map[GVK]string    // the definition of each kind
	hashes  map[string]string // definition name → its hash in the store
	store   *definitions
	built   sync.Map // schemaKey → *builtSchema
}

type schemaKey struct {
	def    string
	strict bool
}

type builtSchema struct {
	once sync.Once
	doc  []byte
	err  error
}

// release is one embedded catalog, parsed on first use.
type release struct {
	file         string
	version      string
	major, minor int
	load         func() (*Catalog, error)
}

// releases lists the embedded catalogs, oldest first, reading no more of
// each file than the version it starts with.
var releases = sync.OnceValues(func() ([]*release, error) {
	files, err := fs.Glob(data, "data/v*.json.gz")
	if err != nil {
		return nil, err
	}
	var out []*release
	for _, f := range files {
		v, err := readVersion(f)
		if err != nil {
			return nil, err
		}
		major, minor, err := parseMinor(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, &release{
			file: f, version: v, major: major, minor: minor,
			load: sync.OnceValues(func() (*Catalog, error) { return load(f) }),
		})
	}
	slices.SortFunc(out, func(a, b *release) int {
		if a.major != b.major {
			return a.major - b.major
		}
		return a.minor - b.minor
	})
	return out, nil
})

// Versions lists the embedded Kubernetes versions, oldest first, e.g. "1.29.15".
func Versions() []string {
	rs, _ := releases() // Lookup reports the error
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.version
	}
	return out
}

// Latest is the newest embedded Kubernetes version: the default of every
// step that renders or validates for a cluster.
func Latest() string {
	vs := Versions()
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// Lookup returns the catalog of the embedded release with the minor version
// of k8sVersion ("1.35", "1.35.0", "v1.35.2"). Its error, ErrUnknownVersion
// when there is none, names the embedded range (see Resolve).
func Lookup(k8sVersion string) (*Catalog, error) {
	m, err := Resolve(k8sVersion, false)
	if err != nil {
		return nil, err
	}
	return LookupMatch(m)
}

// LookupMatch returns the catalog of the release Resolve found.
func LookupMatch(m Match) (*Catalog, error) {
	rs, err := releases()
	if err != nil {
		return nil, fmt.Errorf("embedded schemas: %w", err)
	}
	for _, r := range rs {
		if r.version == m.Embedded {
			return r.load()
		}
	}
	return nil, fmt.Errorf("kubernetes version %q: %w (embedded: %s)", m.Embedded, ErrUnknownVersion, embeddedRange())
}

// parseMinor reads major and minor from "1.35", "v1.35.2" or "1.35+" (as
// some providers report it).
func parseMinor(v string) (major, minor int, err error) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("want a version like 1.35 or 1.35.2")
	}
	digits := strings.TrimRight(parts[1], "+")
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(digits)
	if err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return 0, 0, fmt.Errorf("want a version like 1.35 or 1.35.2")
	}
	return major, minor, nil
}

// index is a release's file as tools/schemagen writes it.
type index struct {
	Version string `json:"version"`
	Kinds   []struct {
		Group      string `json:"group"`
		Version    string `json:"version"`
		Kind       string `json:"kind"`
		Definition string `json:"definition"`
	} `json:"kinds"`
	Definitions map[string]string `json:"definitions"` // model name → content hash
}

// definitions is the store every release's index refers to. Entries are
// kept raw and decoded on first use, once for all the releases that share
// them: a run decodes only what its versions need.
type definitions struct {
	raw map[string]json.RawMessage

	mu      sync.Mutex
	decoded map[string]any
}

var store = sync.OnceValues(func() (*definitions, error) {
	r, err := open(storeFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", storeFile, err)
	}
	defer r.Close()
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %w", storeFile, err)
	}
	return &definitions{raw: raw, decoded: make(map[string]any, len(raw))}, nil
})

// get decodes the definition stored under hash.
func (s *definitions) get(hash string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.decoded[hash]; ok {
		return v, nil
	}
	raw, ok := s.raw[hash]
	if !ok {
		return nil, fmt.Errorf("%s has no definition %s", storeFile, hash)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber() // bounds stay as written
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: definition %s: %w", storeFile, hash, err)
	}
	s.decoded[hash] = v
	return v, nil
}

func open(name string) (io.ReadCloser, error) {
	b, err := data.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return gzip.NewReader(bytes.NewReader(b))
}

// readVersion reads the first field, which schemagen writes first.
func readVersion(name string) (string, error) {
	r, err := open(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	d := json.NewDecoder(r)
	var key, version any
	_, err = d.Token() // {
	if err == nil {
		key, err = d.Token()
	}
	if err == nil {
		version, err = d.Token()
	}
	v, ok := version.(string)
	if err != nil || key != "version" || !ok {
		return "", fmt.Errorf("%s: does not start with its version (%v)", name, err)
	}
	return v, nil
}

func load(name string) (*Catalog, error) {
	r, err := open(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	var idx index
	if err := json.NewDecoder(r).Decode(&idx); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	st, err := store()
	if err != nil {
		return nil, err
	}
	c := &Catalog{version: idx.Version, kinds: make(map[GVK]string, len(idx.Kinds)), hashes: idx.Definitions, store: st}
	for def, hash := range idx.Definitions {
		if _, ok := st.raw[hash]; !ok {
			return nil, fmt.Errorf("%s: %s is %s, which %s lacks", name, def, hash, storeFile)
		}
	}
	for _, k := range idx.Kinds {
		if _, ok := c.hashes[k.Definition]; !ok {
			return nil, fmt.Errorf("%s: kind %s has no definition %q", name, k.Kind, k.Definition)
		}
		c.kinds[GVK{k.Group, k.Version, k.Kind}] = k.Definition
	}
	return c, nil
}

// def is the definition named name, decoded on first use.
func (c *Catalog) def(name string) (any, error) {
	hash, ok := c.hashes[name]
	if !ok {
		return nil, fmt.Errorf("no definition %q", name)
	}
	return c.store.get(hash)
}

// Version is the exact Kubernetes version the catalog was generated from.
func (c *Catalog) Version() string { return c.version }

// Kinds lists the kinds the release serves, sorted by group, version, kind.
func (c *Catalog) Kinds() []GVK {
	out := make([]GVK, 0, len(c.kinds))
	for k := range c.kinds {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b GVK) int {
		return strings.Compare(a.Group+"\x00"+a.Version+"\x00"+a.Kind, b.Group+"\x00"+b.Version+"\x00"+b.Kind)
	})
	return out
}

// Schema returns the standalone JSON Schema of kind in apiVersion ("apps/v1",
// "v1"), the document kubeconform would load from a schema location for it
// ("standalone-strict" when strict); ok is false when the release does not
// serve the kind. The document is built once and shared: do not modify it.
func (c *Catalog) Schema(apiVersion, kind string, strict bool) (doc []byte, ok bool, err error) {
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		group, version = "", apiVersion
	}
	def, ok := c.kinds[GVK{group, version, kind}]
	if !ok {
		return nil, false, nil
	}
	key := schemaKey{def, strict}
	v, ok := c.built.Load(key)
	if !ok {
		v, _ = c.built.LoadOrStore(key, new(builtSchema))
	}
	b := v.(*builtSchema)
	b.once.Do(func() { b.doc, b.err = c.build(def, strict) })
	if b.err != nil {
		return nil, true, fmt.Errorf("schema of %s %s: %w", apiVersion, kind, b.err)
	}
	return b.doc, true, nil
}

// build writes the definition def as the root of a document that carries
// every definition it refers to.
func (c *Catalog) build(def string, strict bool) ([]byte, error) {
	conv := &converter{def: c.def}
	d, err := c.def(def)
	if err != nil {
		return nil, err
	}
	root, ok := conv.convert(d, false, strict).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("definition %q is not an object", def)
	}
	defs := map[string]any{}
	for len(conv.refs) > 0 {
		ref := conv.refs[len(conv.refs)-1]
		conv.refs = conv.refs[:len(conv.refs)-1]
		name, local := strings.CutPrefix(ref, defPrefix)
		if _, done := defs[name]; done && local {
			continue
		}
		if !local {
			return nil, fmt.Errorf("$ref %q names no definition", ref)
		}
		d, err := c.def(name)
		if err != nil {
			return nil, fmt.Errorf("$ref %q: %w", ref, err)
		}
		defs[name] = conv.convert(d, true, strict)
	}
	root["$schema"] = draft4
	if len(defs) > 0 {
		root["definitions"] = defs
	}
	return marshal(root)
}

// marshal is json.Marshal without HTML escaping: a pattern's < and & stay
// readable.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
