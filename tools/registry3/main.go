// Command registry3 is the CNCF distribution registry v3, built from the
// Go module proxy, for the tests that hold publish to a registry newer
// than Debian's docker-registry (2.8): `registry3 serve config.yml`, as
// `docker-registry serve` and the registry:3 image run it. It is its own
// module so that distribution's dependencies stay out of gitship's
// go.mod; internal/registrytest builds it when a test asks for it.
package main

import (
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
