package render

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitship/gitship/shared/yamlcheck"
)

// RenderKustomize builds the kustomization in dir like `kustomize build`
// (the same order; plugins and Helm chart inflation off; each
// kustomization reads files only from its own directory). Every resource's
// Source is the kustomization file.
func RenderKustomize(ctx context.Context, dir string) ([]Resource, error) {
	kfile, err := kustomizationFile(dir)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified // kustomize build's default: legacy order unless sortOptions
	g := &guardedFS{FileSystem: filesys.MakeFsOnDisk()}
	m, err := krusty.MakeKustomizer(opts).Run(g, dir)
	if err != nil {
		// kustomize takes any error reading a kustomization file for
		// its absence ("unable to find one of 'kustomization.yaml'..."):
		// the file the guard refused, and why, is the error to show.
		if refused := g.refused(); refused != nil {
			err = refused
		} else if at := locateKustomizeError(dir, err.Error()); at != "" {
			err = fmt.Errorf("%s: %w", at, err)
		}
		return nil, fmt.Errorf("kustomize %q: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kustomize %q: %w", dir, err)
	}
	src := filepath.ToSlash(kfile)
	rs, err := Split("kustomize "+filepath.ToSlash(filepath.Clean(dir)), src, out)
	if err != nil {
		return nil, fmt.Errorf("kustomize %q: %w", dir, err)
	}
	for i := range rs {
		rs[i].Line = 0 // rendered, not the kustomization's lines
	}
	return rs, nil
}

func kustomizationFile(dir string) (string, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", asInput(fmt.Errorf("kustomization directory %q does not exist", dir))
	case err != nil:
		return "", asInput(fmt.Errorf("kustomization directory %q: %w", dir, err))
	case !fi.IsDir():
		return "", asInput(fmt.Errorf("kustomization %q is not a directory", dir))
	}
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", asInput(fmt.Errorf("%q has no kustomization.yaml", dir))
}

// guardedFS refuses files before kustomize reads them whole: too large ones,
// YAML whose aliases expand without bound, which kyaml would expand, and
// kustomization files that are not a valid Kustomization, so that the error
// names the file and the line. It keeps the first refusal: kustomize hides
// a failed read of a kustomization file behind "unable to find one of".
type guardedFS struct {
	filesys.FileSystem
	mu    sync.Mutex
	first error
}

func (g *guardedFS) ReadFile(path string) ([]byte, error) {
	var data []byte
	err := tooLarge(path)
	if err == nil {
		if data, err = g.FileSystem.ReadFile(path); err != nil {
			return nil, err // not a refusal: kustomize says what it looked for
		}
		err = refuse(path, data)
	}
	if err != nil {
		g.mu.Lock()
		if g.first == nil {
			g.first = err
		}
		g.mu.Unlock()
		return nil, err
	}
	return data, nil
}

// tooLarge refuses a file before it is read into memory.
func tooLarge(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > MaxFileSize {
		return fmt.Errorf("%s is larger than the %d MiB limit", shown(path), MaxFileSize>>20)
	}
	return nil
}

func (g *guardedFS) refused() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.first
}

// refuse says why kustomize must not parse a file it read.
func refuse(path string, data []byte) error {
	if err := checkAliases(shown(path), data); err != nil {
		return err
	}
	if slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path)) {
		return checkKustomization(shown(path), data)
	}
	return nil
}

// checkKustomization parses a kustomization file as kustomize does, to name
// the file with its problem: the YAML syntax error and its line, or the
// field kustomize does not know.
func checkKustomization(name string, data []byte) error {
	// The syntax as lint reports it, on the same line; kustomize
	// tolerates duplicate keys, so they are left to lint.
	for _, f := range yamlcheck.Check(name, data) {
		if f.RuleID != yamlcheck.RuleDuplicate {
			return fmt.Errorf("%s:%d:%d: %s", name, f.Line, f.Column, f.Message)
		}
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		if line, col := fieldAt(data, err.Error()); line > 0 {
			return fmt.Errorf("%s:%d:%d: %w", name, line, col, err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return refuseRemote(name, data)
}

// The field a Kustomization unmarshal error is about: json: unknown field
// "resourcez"; json: cannot unmarshal string into Go struct field
// Kustomization.images.newTag of type string.
var (
	unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)
	wrongType    = regexp.MustCompile(`Go struct field [^\s.]+\.(\S+) of type`)
)

// fieldAt finds the key msg, an unmarshal error of data, is about: the
// first key of that name at the path the message gives (by its last
// segment); 0 when it cannot tell.
func fieldAt(data []byte, msg string) (line, column int) {
	var key string
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		key = m[1]
	} else if m := wrongType.FindStringSubmatch(msg); m != nil {
		key = m[1][strings.LastIndex(m[1], ".")+1:]
	} else {
		return 0, 0
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return 0, 0
	}
	var find func(n *yaml.Node) *yaml.Node
	find = func(n *yaml.Node) *yaml.Node {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					return n.Content[i]
				}
			}
		}
		for _, c := range n.Content {
			if k := find(c); k != nil {
				return k
			}
		}
		return nil
	}
	if k := find(&root); k != nil {
		return k.Line, k.Column
	}
	return 0, 0
}

// remoteFields are the kustomization fields whose entries kustomize may
// fetch: a git repository (clone), or a URL (HTTP GET).
var remoteFields = []string{"resources", "bases", "components"}

// refuseRemote refuses a remote base or resource before kustomize runs git
// or opens a connection: gitship builds offline, where a clone hangs on
// the network or fails with git's message.
func refuseRemote(name string, data []byte) error {
	dir := filepath.Dir(name)
	for _, v := range scalars(data) {
		if !slices.Contains(remoteFields, v.field) || !isRemote(v.value) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, v.value)); err == nil {
			continue // a local directory that looks like a host name, kustomize reads it first
		}
		return fmt.Errorf("%s:%d:%d: %s: remote %s: gitship builds offline and fetches nothing; vendor it into the repository and list the local copy, or render it beforehand and pass the manifests with --manifests",
			name, v.line, v.column, v.value, strings.TrimSuffix(v.field, "s"))
	}
	return nil
}

// hostSegment is a first path segment that names a host: github.com.
var hostSegment = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$`)

// isRemote says whether kustomize takes a resources entry for a remote
// one: a URL, an SSH git address, a ?ref= query, or a path whose first
// segment is a host name (github.com/org/repo/path).
func isRemote(entry string) bool {
	if strings.Contains(entry, "://") || strings.HasPrefix(entry, "git@") || strings.HasPrefix(entry, "git::") ||
		strings.Contains(entry, "?ref=") || strings.Contains(entry, "?version=") {
		return true
	}
	first, rest, ok := strings.Cut(entry, "/")
	if !ok || rest == "" || !hostSegment.MatchString(first) {
		return false
	}
	switch strings.ToLower(first[strings.LastIndex(first, ".")+1:]) {
	case "yaml", "yml", "json", "d":
		return false // a directory named like a file
	}
	return true
}

// kscalar is a scalar of a kustomization file, with the top-level field it
// is under and where it is.
type kscalar struct {
	field, value string
	line, column int
}

// scalars lists the scalar values of a kustomization file, top-level
// field by field; nil when it does not parse.
func scalars(data []byte) []kscalar {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var out []kscalar
	var walk func(field string, n *yaml.Node)
	walk = func(field string, n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			out = append(out, kscalar{field, n.Value, n.Line, n.Column})
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(field, n.Content[i])
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(field, c)
			}
		}
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		walk(m.Content[i].Value, m.Content[i+1])
	}
	return out
}

// Where kustomize's errors name an entry of a kustomization.
var (
	// accumulating resources from '../base': ... — one per base descended.
	accumulating = regexp.MustCompile(`accumulating resources from '([^']+)'`)
	// no matches for Id Deployment.v1.apps/web.[noNs]: a patch's target.
	noMatch = regexp.MustCompile(`no matches for Id [^/\s]+/([^\s]+?)\.\[`)
	// Other names kustomize quotes: 'x', "x", path(x), `path: x`.
	quoted = regexp.MustCompile(`'([^'\s]+)'|"([^"\s]+)"|\(([^()\s]+)\)|path: ([^\s` + "`" + `]+)`)
)

// locateKustomizeError finds the kustomization file and line an error of
// kustomize is about, "base/kustomization.yaml:3:3", following the bases
// its message descends through; "" when it cannot tell.
func locateKustomizeError(dir, msg string) string {
	cur := dir
	at := ""
	for _, m := range accumulating.FindAllStringSubmatch(msg, -1) {
		kfile, err := kustomizationFile(cur)
		if err != nil {
			break
		}
		data, err := os.ReadFile(kfile)
		if err != nil {
			break
		}
		found := false
		for _, v := range scalars(data) {
			if v.value == m[1] && slices.Contains(remoteFields, v.field) {
				at, found = fmt.Sprintf("%s:%d:%d", shown(kfile), v.line, v.column), true
				break
			}
		}
		if !found {
			break
		}
		next := filepath.Join(cur, m[1])
		if fi, err := os.Stat(next); err != nil || !fi.IsDir() {
			return at
		}
		cur = next
	}
	// The kustomization the message ended in: a patch or generator entry.
	kfile, err := kustomizationFile(cur)
	if err != nil {
		return at
	}
	data, err := os.ReadFile(kfile)
	if err != nil {
		return at
	}
	vals := scalars(data)
	locate := func(want func(kscalar) bool) string {
		for _, v := range vals {
			if want(v) {
				return fmt.Sprintf("%s:%d:%d", shown(kfile), v.line, v.column)
			}
		}
		return ""
	}
	if m := noMatch.FindStringSubmatch(msg); m != nil {
		name := m[1]
		// The patch naming the target: inline, or in a file the
		// kustomization lists.
		if l := locate(func(v kscalar) bool { return isPatchField(v.field) && v.value == name }); l != "" {
			return l
		}
		named := regexp.MustCompile(`(?m)^\s*name:\s*["']?` + regexp.QuoteMeta(name) + `["']?\s*$`)
		if l := locate(func(v kscalar) bool {
			if !isPatchField(v.field) {
				return false
			}
			b, err := os.ReadFile(filepath.Join(cur, v.value))
			return err == nil && named.Match(b)
		}); l != "" {
			return l
		}
	}
	ms := quoted.FindAllStringSubmatch(msg, -1)
	for i := len(ms) - 1; i >= 0; i-- { // the innermost name first
		tok := cmp.Or(ms[i][1], ms[i][2], ms[i][3], ms[i][4])
		if l := locate(func(v kscalar) bool { return v.value == tok }); l != "" {
			return l
		}
	}
	return at
}

// isPatchField is a kustomization field that lists patches.
func isPatchField(field string) bool {
	return field == "patches" || field == "patchesStrategicMerge" || field == "patchesJson6902"
}

// shown is path as a message shows it: relative to the working directory
// (the workspace) when it is inside it; kustomize hands absolute paths.
func shown(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return path
}
