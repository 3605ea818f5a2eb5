// Command gen writes the image bench/publish.sh pushes and promotes: an OCI
// image layout of one linux/amd64 image with -layers layers, each a
// gzipped tar holding one file of -mib MiB of pseudo-random
// (incompressible) bytes. The bytes come from a fixed seed: the same image,
// and the same digest, every run. It prints the manifest digest.
//
//	go run ./bench/publish/gen -out DIR [-layers 8] [-mib 25]
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/gitship/gitship/shared/ocilayout"
)

func main() {
	out := flag.String("out", "", "layout directory to write (replaced)")
	layers := flag.Int("layers", 8, "number of layers")
	mib := flag.Int("mib", 25, "MiB of random bytes per layer")
	flag.Parse()
	if *out == "" || *layers < 1 || *mib < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *layers, int64(*mib)<<20); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string, n int, size int64) error {
	var ls []v1.Layer
	for i := range n {
		gz, err := layer(i, size)
		if err != nil {
			return err
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(gz)), nil
		}, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return err
		}
		ls = append(ls, l)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, ls...)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Labels = map[string]string{"org.opencontainers.image.title": "gitship publish bench"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	d, err := ocilayout.Write(dir, img, "bench")
	if err != nil {
		return err
	}
	fmt.Println(d)
	return nil
}

// layer is layer i, gzipped: a tar of one file of size random bytes.
func layer(i int, size int64) ([]byte, error) {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(i)+1)
	rng := rand.NewChaCha8(seed)
	var buf bytes.Buffer
	buf.Grow(int(size) + 1<<20)
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("layer%d/random.bin", i), Mode: 0o644, Size: size, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if _, err := io.CopyN(tw, rng, size); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
