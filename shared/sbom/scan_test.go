package sbom

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// scanExtracted is scan as it was before it read layers on its own: one
// pass over go-containerregistry's mutate.Extract. It is the reference the
// layer-by-layer scan must agree with.
func scanExtracted(ctx context.Context, img v1.Image) (inventory, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	tmp, err := os.CreateTemp("", "gitship-sbom-*")
	if err != nil {
		return inventory{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var comps []component
	releases := map[string][]byte{}
	for {
		if err := ctx.Err(); err != nil {
			return inventory{}, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return inventory{}, fmt.Errorf("read layers: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean("/" + h.Name)
		switch {
		case name == "/etc/os-release" || name == "/usr/lib/os-release":
			data, err := io.ReadAll(io.LimitReader(tr, 64<<10))
			if err != nil {
				return inventory{}, err
			}
			releases[name] = data
		case name == dpkgStatus || strings.HasPrefix(name, dpkgStatusDir) && !strings.HasSuffix(name, ".md5sums"):
			found, err := readDatabase(tr, name, kindDeb)
			if err != nil {
				return inventory{}, err
			}
			comps = append(comps, found...)
		case name == apkInstalled:
			found, err := readDatabase(tr, name, kindAPK)
			if err != nil {
				return inventory{}, err
			}
			comps = append(comps, found...)
		case h.Mode&0o111 != 0 && h.Size > 4 && h.Size <= maxBinary:
			found, err := readGoBinary(tr, tmp, name)
			if err != nil {
				return inventory{}, err
			}
			comps = append(comps, found...)
		}
	}
	inv := inventory{distro: readOSRelease(releases)}
	inv.components = merge(comps, inv.distro)
	return inv, nil
}

// ent is one tar entry of a test layer, in order.
type ent struct {
	name     string
	typ      byte // tar.TypeReg when 0
	mode     int64
	content  []byte
	linkname string
}

func tarLayer(t testing.TB, ents ...ent) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.content)), Linkname: e.linkname}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(e.content); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func layered(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// The layer-by-layer scan finds what a scan of mutate.Extract's flattened
// file system finds, whiteouts, opaque directories, files replaced in an
// upper layer and paths written differently included; and each case finds
// what it should (so the agreement is not two empty lists).
func TestScanLayersAsExtracted(t *testing.T) {
	tool := modBinary(t)
	deb, apk := testdata(t, "dpkg-status"), testdata(t, "apk-installed")
	debian, alpine := testdata(t, "os-release-debian"), testdata(t, "os-release-alpine")
	exe := func(name string) ent { return ent{name: name, mode: 0o755, content: tool} }
	dir := func(name string) ent { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
	for _, tt := range []struct {
		name    string
		img     v1.Image
		want    []string // substrings of package URLs found
		notWant []string
		distro  string
	}{
		{"debian example", debianImage(t), []string{"pkg:golang/github.com/google/go-containerregistry@", "pkg:deb/debian/"}, nil, "debian"},
		{"os-release and database replaced above",
			layered(t, tarLayer(t, ent{name: "etc/os-release", content: debian}, ent{name: "var/lib/dpkg/status", content: deb}),
				tarLayer(t, ent{name: "etc/os-release", content: alpine}, ent{name: "var/lib/dpkg/.wh.status"}, ent{name: "lib/apk/db/installed", content: apk})),
			[]string{"pkg:apk/alpine/"}, []string{"pkg:deb/"}, "alpine"},
		{"whiteout of a directory",
			layered(t, tarLayer(t, dir("usr/local/bin"), exe("usr/local/bin/tool"), ent{name: "usr/lib/os-release", content: debian}),
				tarLayer(t, ent{name: "usr/local/.wh.bin"})),
			nil, []string{"pkg:golang/"}, "debian"},
		{"file deleted, then written again",
			layered(t, tarLayer(t, exe("opt/tool")), tarLayer(t, ent{name: "opt/.wh.tool"}), tarLayer(t, exe("./opt/tool"))),
			[]string{"pkg:golang/stdlib@"}, nil, ""},
		{"opaque directory hides the layers below only",
			layered(t, tarLayer(t, dir("var/lib/dpkg"), ent{name: "var/lib/dpkg/status", content: deb}, exe("opt/app/tool")),
				tarLayer(t, ent{name: "var/lib/dpkg/.wh..wh..opq"}, ent{name: "var/lib/dpkg/status.d/base", content: deb}, ent{name: "etc/os-release", content: debian})),
			[]string{"pkg:deb/debian/", "pkg:golang/"}, nil, "debian"},
		{"opaque directory over a Go binary",
			layered(t, tarLayer(t, exe("opt/app/tool"), ent{name: "etc/os-release", content: alpine}),
				tarLayer(t, ent{name: "opt/app/.wh..wh..opq"}, ent{name: "opt/app/README", content: []byte("x")})),
			nil, []string{"pkg:golang/"}, "alpine"},
		{"a file over a directory, links",
			layered(t, tarLayer(t, dir("etc"), ent{name: "etc/os-release", content: debian}, exe("bin/tool")),
				tarLayer(t, ent{name: "etc", content: []byte("not a directory")}, ent{name: "bin/out", typ: tar.TypeSymlink, linkname: "../../../x"},
					ent{name: "bin/tool2", typ: tar.TypeLink, linkname: "bin/tool"})),
			[]string{"pkg:golang/"}, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want, err := scanExtracted(context.Background(), tt.img)
			if err != nil {
				t.Fatal(err)
			}
			got, err := scan(context.Background(), tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("scan:\n%+v\nscan of mutate.Extract:\n%+v", got, want)
			}
			var purls []string
			for _, c := range got.components {
				purls = append(purls, c.purl)
			}
			all := strings.Join(purls, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("no %s in:\n%s", w, all)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(all, w) {
					t.Errorf("%s in:\n%s", w, all)
				}
			}
			if got.distro.id != tt.distro {
				t.Errorf("distribution %q, want %q", got.distro.id, tt.distro)
			}
		})
	}
}

// A layer that cannot be read fails the scan, with the others cancelled,
// and a cancelled context stops it.
func TestScanFails(t *testing.T) {
	bad, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("not a tar")), nil })
	if err != nil {
		t.Fatal(err)
	}
	good := tarLayer(t, ent{name: "etc/os-release", content: []byte("ID=debian\n")})
	if _, err := scan(context.Background(), layered(t, good, bad, good)); err == nil || !strings.Contains(err.Error(), "read layers") {
		t.Errorf("scan of an image with a broken layer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := scan(ctx, layered(t, good, good)); !errors.Is(err, context.Canceled) {
		t.Errorf("scan with a cancelled context: %v", err)
	}
	out := tarLayer(t, ent{name: "../etc/os-release", content: []byte("ID=evil\n")})
	if _, err := scan(context.Background(), layered(t, out)); err == nil || !strings.Contains(err.Error(), "unsafe tar path") {
		t.Errorf("scan of a path out of the root: %v", err)
	}
}

// benchImage is n layers of mib MiB each, gzipped: random bytes (what
// bench/sign.sh pushes), or text-like bytes that compress as real files do.
func benchImage(b *testing.B, n, mib int, compressible bool) v1.Image {
	b.Helper()
	var ls []v1.Layer
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		data := make([]byte, mib<<20)
		if compressible {
			words := []string{"gitship ", "layer ", "package ", "binary ", "config\n", "usr/lib/", "0123 "}
			for j := 0; j < len(data); {
				j += copy(data[j:], words[rng.IntN(len(words))])
			}
		} else {
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		}
		var tarBuf bytes.Buffer
		tw := tar.NewWriter(&tarBuf)
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("layer%d/data.bin", i), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
		tw.Close()
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
		zw.Write(tarBuf.Bytes())
		zw.Close()
		blob := gz.Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil })
		if err != nil {
			b.Fatal(err)
		}
		ls = append(ls, l)
	}
	return layered(b, ls...)
}

// go test -run '^$' -bench Scan -benchtime 5x ./shared/sbom: the scan of 4
// layers of 50 MiB, now and through mutate.Extract.
func BenchmarkScan(b *testing.B) {
	for _, compressible := range []bool{false, true} {
		img := benchImage(b, 4, 50, compressible)
		kind := map[bool]string{false: "random", true: "text"}[compressible]
		for name, f := range map[string]func(context.Context, v1.Image) (inventory, error){"layers": scan, "extract": scanExtracted} {
			b.Run(kind+"/"+name, func(b *testing.B) {
				b.SetBytes(200 << 20)
				for b.Loop() {
					if _, err := f(context.Background(), img); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
