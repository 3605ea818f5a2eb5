package imagesource

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gitship/gitship/shared/registry"
)

// ErrNotImage is returned (wrapped) by Open when the spec, or the file or
// directory it names, holds no image it can read: bad input, not a
// failure of the registry.
var ErrNotImage = errors.New("not an image to push")

// notImage makes err an ErrNotImage and keeps its text.
type notImage struct{ err error }

func (e notImage) Error() string        { return e.err.Error() }
func (e notImage) Unwrap() error        { return e.err }
func (e notImage) Is(target error) bool { return target == ErrNotImage }

// Open reads the image to push: oci:DIR (an OCI image layout, as build
// writes it), tarball:FILE (docker save), or docker:REF (an image in the
// Docker engine at DOCKER_HOST). The temporary files a docker: image needs
// are removed by the returned cleanup.
func Open(ctx context.Context, spec string) (a registry.Artifact, cleanup func(), err error) {
	cleanup = func() {}
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok || arg == "" {
		return a, cleanup, notImage{fmt.Errorf("%q: want oci:DIR, tarball:FILE or docker:REF", spec)}
	}
	switch kind {
	case "oci":
		a, err = openLayout(arg)
		if err != nil {
			err = notImage{err}
		}
	case "tarball":
		a, err = openTarball(arg)
	case "docker":
		return openDocker(ctx, arg)
	default:
		return a, cleanup, notImage{fmt.Errorf("%q: unknown kind %q; want oci:DIR, tarball:FILE or docker:REF", spec, kind)}
	}
	a.From = spec
	return a, cleanup, err
}
