package sbom

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	packageurl "github.com/package-url/packageurl-go"
	"pault.ag/go/debian/control"
)

// The package kinds, as package URL types (packageurl.TypeGolang, ...,
// which are variables).
const (
	kindGo  = "golang"
	kindDeb = "deb"
	kindAPK = "apk"
)

// Where the package databases are, in the image's file system.
const (
	dpkgStatus    = "/var/lib/dpkg/status"
	dpkgStatusDir = "/var/lib/dpkg/status.d/"
	apkInstalled  = "/lib/apk/db/installed"
)

// maxBinary bounds the size of an executable read for Go build info.
const maxBinary = 1 << 30

// component is one package found in the image.
type component struct {
	kind    string
	name    string
	version string
	arch    string
	// locations are the files it was found in: a Go binary, dpkg's or
	// apk's database.
	locations []string
	purl      string
}

// distro is what /etc/os-release says.
type distro struct {
	id, versionID, prettyName string
}

// inventory is everything found in one image.
type inventory struct {
	distro     distro
	components []component
}

// scan lists img's packages, as found in its flattened file system: what
// go-containerregistry's mutate.Extract yields, whiteouts and opaque
// directories applied, read once. Each layer is read on its own, several at
// once (gunzipping is most of the cost, and a layer's does not wait for the
// one above it), and only the files that can hold packages are looked at;
// then the layers' entries are flattened from the top as mutate.Extract
// flattens them, and a file's packages count only when that file is in the
// flattened file system. This reads every layer's bytes once, where reading
// mutate.Extract's stream copied each file through a tar writer and a pipe
// after gunzipping it, one layer after the other.
func scan(ctx context.Context, img v1.Image) (inventory, error) {
	layers, err := img.Layers()
	if err != nil {
		return inventory{}, fmt.Errorf("read layers: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	scanned := make([][]entry, len(layers))
	errs := make([]error, len(layers))
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range min(len(layers), runtime.GOMAXPROCS(0), 4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if scanned[i], errs[i] = scanLayer(ctx, layers[i]); errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	// The top layer first: flattening starts there.
	for i := len(layers) - 1; i >= 0; i-- {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	// A layer's own failure, rather than the cancellation it caused in the
	// others; else the caller's cancellation.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return inventory{}, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return inventory{}, err
		}
	}

	var comps []component
	releases := map[string][]byte{}
	for _, f := range flatten(scanned) {
		if f.release != nil {
			releases[f.path] = f.release
		}
		comps = append(comps, f.comps...)
	}
	inv := inventory{distro: readOSRelease(releases)}
	inv.components = merge(comps, inv.distro)
	return inv, nil
}

// entry is one tar entry of a layer, with what flattening needs of it and
// what scanLayer found in it.
type entry struct {
	name      string // the key of mutate.Extract's file map
	dir       bool
	tombstone bool   // a .wh. whiteout of name
	opaque    string // a .wh..wh..opq marker: the directory it hides below
	skip      bool   // a link mutate.Extract drops (its target leaves the root)
	found     *found // a regular file's packages or os-release
}

// found is what one regular file held.
type found struct {
	path    string // absolute, cleaned
	release []byte // /etc/os-release, /usr/lib/os-release
	comps   []component
}

// Whiteouts, as go-containerregistry's mutate.Extract reads them.
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// scanLayer reads one layer's entries and looks into the files that can
// hold packages. The rest of the layer is read too (to its end, so that
// its digest is checked) but not looked into.
func scanLayer(ctx context.Context, l v1.Layer) ([]entry, error) {
	rc, err := uncompressed(l)
	if err != nil {
		return nil, fmt.Errorf("read layers: %w", err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var tmp *os.File
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var out []entry
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read layers: %w", err)
		}
		hname := path.Clean(h.Name)
		if unsafeArchivePath(hname) {
			return nil, fmt.Errorf("read layers: unsafe tar path %q", hname)
		}
		if (h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink) && unsafeRelativeLink(hname, h.Linkname) {
			out = append(out, entry{skip: true})
			continue
		}
		base, dir := path.Base(hname), path.Dir(hname)
		if base == opaqueWhiteout {
			out = append(out, entry{opaque: dir})
			continue
		}
		e := entry{dir: h.Typeflag == tar.TypeDir, tombstone: strings.HasPrefix(base, whiteoutPrefix)}
		if e.tombstone {
			base = base[len(whiteoutPrefix):]
		}
		if e.dir {
			e.name = hname
		} else {
			e.name = path.Join(dir, base)
		}
		if !e.tombstone && h.Typeflag == tar.TypeReg {
			if e.found, err = look(tr, h, path.Clean("/"+hname), &tmp); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
	}
	// Trailing bytes after the end of the archive: read to the end, as
	// mutate.Extract does, so that a verifying reader checks the digest.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, fmt.Errorf("read layers: %w", err)
	}
	return out, nil
}

// uncompressed opens l's tar stream. A gzipped layer is gunzipped with
// klauspost/compress's gzip, 1.5 to 2 times as fast as compress/gzip
// (which go-containerregistry's Uncompressed uses) on the files of real
// images: inflating is most of what a scan costs. Any other layer (zstd, an
// uncompressed tar) goes through go-containerregistry. Compressed is what
// Uncompressed reads too, with the same digest check at its end.
func uncompressed(l v1.Layer) (io.ReadCloser, error) {
	mt, err := l.MediaType()
	if err != nil {
		return nil, err
	}
	switch mt {
	case types.DockerLayer, types.OCILayer, types.DockerForeignLayer, types.OCIRestrictedLayer:
	default:
		return l.Uncompressed()
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 1<<16)
	if magic, _ := br.Peek(2); !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		// Not gzip after all, whatever the media type says.
		rc.Close()
		return l.Uncompressed()
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return gunzipped{zr, rc}, nil
}

// gunzipped is a gzip reader that closes the compressed stream under it.
type gunzipped struct {
	*gzip.Reader
	compressed io.Closer
}

func (g gunzipped) Close() error {
	g.Reader.Close()
	return g.compressed.Close()
}

// look reads a regular file that can hold packages (nil for any other):
// os-release, dpkg's or apk's database, a Go executable. tmp is where an
// executable is copied for debug/buildinfo, made on first use.
func look(tr io.Reader, h *tar.Header, name string, tmp **os.File) (*found, error) {
	switch {
	case name == "/etc/os-release" || name == "/usr/lib/os-release":
		data, err := io.ReadAll(io.LimitReader(tr, 64<<10))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		return &found{path: name, release: data}, nil
	case name == dpkgStatus || strings.HasPrefix(name, dpkgStatusDir) && !strings.HasSuffix(name, ".md5sums"):
		comps, err := readDatabase(tr, name, kindDeb)
		return &found{path: name, comps: comps}, err
	case name == apkInstalled:
		comps, err := readDatabase(tr, name, kindAPK)
		return &found{path: name, comps: comps}, err
	case h.Mode&0o111 != 0 && h.Size > 4 && h.Size <= maxBinary:
		if *tmp == nil {
			f, err := os.CreateTemp("", "gitship-sbom-*")
			if err != nil {
				return nil, err
			}
			*tmp = f
		}
		comps, err := readGoBinary(tr, *tmp, name)
		if err != nil || comps == nil {
			return nil, err
		}
		return &found{path: name, comps: comps}, nil
	}
	return nil, nil
}

// flatten returns, from the top layer down, what the files of the
// flattened file system held: the layers' entries go through
// go-containerregistry's mutate.Extract rules (v0.22.1's extractLayer): an
// entry seen in an upper layer hides the lower ones of its name; a
// whiteout, or a file, hides what is below its name; an opaque marker hides
// the lower layers' entries below its directory.
func flatten(layers [][]entry) []*found {
	seen := map[string]bool{}   // name: hides what is below it
	opaque := map[string]bool{} // directories upper layers made opaque
	var out []*found
	for i := len(layers) - 1; i >= 0; i-- {
		opaqued := map[string]bool{}
		for _, e := range layers[i] {
			switch {
			case e.skip:
				continue
			case e.opaque != "":
				opaqued[e.opaque] = true
				continue
			}
			if _, ok := seen[e.name]; ok && !e.tombstone {
				continue
			}
			if below(seen, e.name) || below(opaque, e.name) {
				continue
			}
			seen[e.name] = e.tombstone || !e.dir
			if !e.tombstone && e.found != nil {
				out = append(out, e.found)
			}
		}
		for d := range opaqued {
			opaque[d] = true
		}
	}
	return out
}

// below tells whether a directory above name is true in dirs (mutate's
// inWhiteoutDir and inOpaqueDir).
func below(dirs map[string]bool, name string) bool {
	for name != "" {
		dir := path.Dir(name)
		if name == dir {
			break
		}
		if dirs[dir] {
			return true
		}
		name = dir
	}
	return false
}

// unsafeArchivePath and unsafeRelativeLink are mutate.Extract's checks
// (go-containerregistry v0.22.1, Apache-2.0): a path out of the root fails
// the extraction, a relative link out of it is dropped.
func unsafeArchivePath(name string) bool {
	clean := cleanArchivePath(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return true
	}
	if strings.HasPrefix(name, "\\") {
		return true
	}
	return hasWindowsDrivePrefix(clean)
}

func unsafeRelativeLink(name, linkname string) bool {
	clean := cleanArchivePath(linkname)
	if path.IsAbs(clean) {
		return false
	}
	if hasWindowsDrivePrefix(clean) {
		return true
	}
	resolved := path.Clean(path.Join(path.Dir(name), clean))
	return strings.HasPrefix(resolved, "..")
}

func cleanArchivePath(name string) string {
	return path.Clean(strings.ReplaceAll(name, "\\", "/"))
}

func hasWindowsDrivePrefix(name string) bool {
	return len(name) >= 2 &&
		(('A' <= name[0] && name[0] <= 'Z') || ('a' <= name[0] && name[0] <= 'z')) &&
		name[1] == ':'
}

// readGoBinary lists the modules of a Go executable: its main module,
// its dependencies as built (replacements applied), and the standard
// library. Any other file, or an executable that is not Go's, lists
// nothing.
func readGoBinary(r io.Reader, tmp *os.File, name string) ([]component, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(4); !bytes.Equal(magic, []byte("\x7fELF")) {
		return nil, nil
	}
	if err := tmp.Truncate(0); err != nil {
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := io.Copy(tmp, br); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	bi, err := buildinfo.Read(tmp)
	if err != nil {
		return nil, nil // not a Go binary, or one without build info
	}
	loc := []string{name}
	var out []component
	if bi.Main.Path != "" {
		out = append(out, component{kind: kindGo, name: bi.Main.Path, version: moduleVersion(bi.Main.Version), locations: loc})
	}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		out = append(out, component{kind: kindGo, name: d.Path, version: moduleVersion(d.Version), locations: loc})
	}
	if v, _, _ := strings.Cut(bi.GoVersion, " "); v != "" {
		out = append(out, component{kind: kindGo, name: "stdlib", version: v, locations: loc})
	}
	return out, nil
}

// moduleVersion is "(devel)" for a module built from a checkout, as Go
// itself says it.
func moduleVersion(v string) string {
	if v == "" {
		return "(devel)"
	}
	return v
}

// readDatabase lists the packages of dpkg's status file (installed ones
// only), of one file of distroless's status.d, or of apk's installed
// database. apk's records are blank-line separated "K:value" lines, which
// the Debian control parser reads as it reads dpkg's "Key: value".
func readDatabase(r io.Reader, name, kind string) ([]component, error) {
	pr, err := control.NewParagraphReader(io.LimitReader(r, 256<<20), nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	paras, err := pr.All()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var out []component
	for _, p := range paras {
		v := p.Values
		c := component{kind: kind, locations: []string{name}}
		switch kind {
		case kindDeb:
			// status.d has no Status field: it lists installed packages only.
			if st, ok := v["Status"]; ok && !strings.HasSuffix(strings.TrimSpace(st), " installed") {
				continue
			}
			c.name, c.version, c.arch = v["Package"], v["Version"], v["Architecture"]
		case kindAPK:
			c.name, c.version, c.arch = v["P"], v["V"], v["A"]
		}
		if c.name == "" {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// readOSRelease reads ID, VERSION_ID and PRETTY_NAME from /etc/os-release,
// else /usr/lib/os-release, as os-release(5) says to.
func readOSRelease(files map[string][]byte) distro {
	data, ok := files["/etc/os-release"]
	if !ok {
		data = files["/usr/lib/os-release"]
	}
	var d distro
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			d.id = v
		case "VERSION_ID":
			d.versionID = v
		case "PRETTY_NAME":
			d.prettyName = v
		}
	}
	return d
}

// merge gives each component its package URL and lists each package URL
// once, with every file it was found in, in a stable order.
func merge(comps []component, d distro) []component {
	byPURL := map[string]int{}
	var out []component
	for _, c := range comps {
		c.purl = purl(c, d)
		if i, ok := byPURL[c.purl]; ok {
			if !slices.Contains(out[i].locations, c.locations[0]) {
				out[i].locations = append(out[i].locations, c.locations...)
			}
			continue
		}
		byPURL[c.purl] = len(out)
		out = append(out, c)
	}
	for i := range out {
		slices.Sort(out[i].locations)
	}
	slices.SortFunc(out, func(a, b component) int {
		return strings.Compare(a.kind+" "+a.name+" "+a.version, b.kind+" "+b.name+" "+b.version)
	})
	return out
}

// purl is the component's package URL, as syft and Trivy write them:
// pkg:golang/github.com/x/y@v1.2.3, pkg:golang/stdlib@1.26.8, pkg:deb/debian/tzdata@2024a-0+deb12u1?arch=all&distro=debian-12,
// pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.
func purl(c component, d distro) string {
	switch c.kind {
	case kindGo:
		v := c.version
		if c.name == "stdlib" {
			v = strings.TrimPrefix(v, "go") // as syft and OSV name Go's versions: 1.26.8
		}
		ns, name := path.Split(c.name)
		return packageurl.NewPackageURL(kindGo, strings.TrimSuffix(ns, "/"), name, v, nil, "").ToString()
	default:
		ns := d.id
		if ns == "" {
			ns = map[string]string{kindDeb: "debian", kindAPK: "alpine"}[c.kind]
		}
		q := map[string]string{}
		if c.arch != "" {
			q["arch"] = c.arch
		}
		if d.id != "" && d.versionID != "" {
			q["distro"] = d.id + "-" + d.versionID
		}
		return packageurl.NewPackageURL(c.kind, ns, c.name, c.version, packageurl.QualifiersFromMap(q), "").ToString()
	}
}
