package imagesource

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/gitship/gitship/shared/registry"
)

// openTarball reads what docker save writes. Anything else, a file that
// is not a tar or a tar without docker save's manifest.json, is named as
// such.
func openTarball(file string) (registry.Artifact, error) {
	fi, err := os.Stat(file)
	switch {
	case err != nil:
		return registry.Artifact{}, notImage{fmt.Errorf("tarball %s: %w", file, err)}
	case fi.IsDir():
		return registry.Artifact{}, notImage{fmt.Errorf("tarball %s is a directory, not a tarball of docker save (an OCI layout is oci:%s)", file, file)}
	}
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		return registry.Artifact{}, notImage{fmt.Errorf("tarball %s is not a tarball of docker save: %w", file, err)}
	}
	return registry.Artifact{Image: img}, nil
}
