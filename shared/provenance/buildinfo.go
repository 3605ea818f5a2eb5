package provenance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/util/purl"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/gitship/gitship/shared/atomicfile"
)

// BuildInfoFile is the side file the build step writes next to an OCI
// layout's index.json: what the build knew that the image does not say.
const BuildInfoFile = "gitship-build.json"

// buildInfoVersion is the side file's format; a reader refuses another.
const buildInfoVersion = 1

// ErrNoBuildInfo is a layout without a build info file: built by another
// tool, or by a gitship build from before the file existed.
var ErrNoBuildInfo = errors.New("the OCI layout has no " + BuildInfoFile)

// BuildInfo is what the build step knew of the build that wrote a layout.
type BuildInfo struct {
	// Version is the file's format, 1.
	Version int `json:"version"`
	// Image is the digest of the manifest or index the layout's
	// index.json lists: the image this file describes.
	Image string `json:"image"`
	// Repository, Ref and Commit are the source the build step built.
	Repository string `json:"repository,omitempty"`
	Ref        string `json:"ref,omitempty"`
	Commit     string `json:"commit,omitempty"`
	// Dockerfile is --file, relative to the repository root; Target and
	// Platforms are --target and --platform.
	Dockerfile string   `json:"dockerfile,omitempty"`
	Target     string   `json:"target,omitempty"`
	Platforms  []string `json:"platforms,omitempty"`
	// Builder says what built: "BuildKit of the Docker engine",
	// "standalone BuildKit at ...", "classic builder".
	Builder string `json:"builder,omitempty"`
	// BaseImages are the images the Dockerfile's FROM lines (and named
	// docker-image:// contexts) resolved to in the final image's build.
	BaseImages []BaseImage `json:"baseImages,omitempty"`
	// StartedOn and FinishedOn bound the final image's build.
	StartedOn  time.Time `json:"startedOn,omitzero"`
	FinishedOn time.Time `json:"finishedOn,omitzero"`
}

// BaseImage is one image a build started from.
type BaseImage struct {
	// Ref is the reference as the build resolved it:
	// "docker.io/library/golang:1.26", or one with "@sha256:...".
	Ref string `json:"ref"`
	// Digest is the manifest (or index) digest the reference resolved
	// to; empty when the builder took a local image it knows by ID only
	// (the engine's BuildKit of Docker 20.10 with an image never pulled).
	Digest string `json:"digest,omitempty"`
	// ImageID is the digest of the image's config: what the builder
	// used, also when no registry ever saw it.
	ImageID string `json:"imageID,omitempty"`
	// Platform is the platform resolved: "linux/amd64".
	Platform string `json:"platform,omitempty"`
}

// descriptor is the base image as a resolved dependency: a package URL
// as BuildKit's own provenance writes it (pkg:docker/golang@1.26?platform=linux%2Famd64),
// its manifest digest, and the image ID as an annotation.
func (bi BaseImage) descriptor() (ResourceDescriptor, error) {
	var plat *ocispecs.Platform
	if bi.Platform != "" {
		p, err := platforms.Parse(bi.Platform)
		if err != nil {
			return ResourceDescriptor{}, fmt.Errorf("platform %q: %w", bi.Platform, err)
		}
		plat = &p
	}
	uri, err := purl.RefToPURL("docker", bi.Ref, plat)
	if err != nil {
		return ResourceDescriptor{}, err
	}
	d := ResourceDescriptor{URI: uri}
	if alg, hex, ok := strings.Cut(bi.Digest, ":"); ok {
		d.Digest = map[string]string{alg: hex}
	}
	if bi.ImageID != "" {
		d.Annotations = map[string]string{"imageID": bi.ImageID}
	}
	return d, nil
}

// WriteBuildInfo writes info as dir's BuildInfoFile, whole or not at all.
func WriteBuildInfo(dir string, info BuildInfo) error {
	info.Version = buildInfoVersion
	// atomicfile makes it 0644, as the layout's other files: publish may
	// run as another user.
	return atomicfile.Write(filepath.Join(dir, BuildInfoFile), func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(info)
	})
}

// ReadBuildInfo reads the BuildInfoFile of the OCI layout at dir. It
// refuses a file that describes another image than the one index.json
// lists (a layout rewritten by another tool), and returns an error that
// is ErrNoBuildInfo when there is no file.
func ReadBuildInfo(dir string) (BuildInfo, error) {
	path := filepath.Join(dir, BuildInfoFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return BuildInfo{}, fmt.Errorf("%s: %w", dir, ErrNoBuildInfo)
	}
	if err != nil {
		return BuildInfo{}, fmt.Errorf("read %s: %w", path, err)
	}
	var info BuildInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return BuildInfo{}, fmt.Errorf("read %s: %w", path, err)
	}
	if info.Version != buildInfoVersion {
		return BuildInfo{}, fmt.Errorf("read %s: version %d; this gitship reads version %d", path, info.Version, buildInfoVersion)
	}
	listed, err := indexDigests(dir)
	if err != nil {
		return BuildInfo{}, err
	}
	for _, d := range listed {
		if d == info.Image {
			return info, nil
		}
	}
	return BuildInfo{}, fmt.Errorf("read %s: it describes image %s, and %s lists %s: the layout was changed after the build; build again",
		path, info.Image, filepath.Join(dir, "index.json"), strings.Join(listed, ", "))
}

// indexDigests are the digests index.json lists.
func indexDigests(dir string) ([]string, error) {
	path := filepath.Join(dir, "index.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	out := make([]string, 0, len(idx.Manifests))
	for _, m := range idx.Manifests {
		out = append(out, m.Digest.String())
	}
	return out, nil
}
