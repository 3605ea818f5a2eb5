package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/wrapper"
)

// Release is what a release's wrappers point at, instead of the moving
// tags the committed ones use.
type Release struct {
	// Version is the release, MAJOR.MINOR.PATCH. Its major must be the
	// one of wrapper.Ref: the release moves that tag.
	Version string
	// Images maps each step to its released image pinned by digest,
	// ghcr.io/gitship/gitship-lint@sha256:...
	Images map[string]string
}

var releaseVersion = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// TaskVersion is the Azure tasks' version for a release x.y.z:
// wrapper.TaskMajor.y.z. The major stays the task folder's (LintV1) and the
// one pipelines pin (GitshipLint@1); minor and patch follow the release,
// so every release raises them and agents fetch the new task. x must be
// wrapper.Ref's major, so a release cannot go backwards in task version
// without Ref and TaskMajor being raised together first.
func TaskVersion(version string) (major, minor, patch int, err error) {
	m := releaseVersion.FindStringSubmatch(version)
	if m == nil {
		return 0, 0, 0, fmt.Errorf("release version %q: want MAJOR.MINOR.PATCH, e.g. 0.1.0", version)
	}
	refMajor, err := strconv.Atoi(strings.TrimPrefix(wrapper.Ref, "v"))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("wrapper.Ref %q is not vMAJOR", wrapper.Ref)
	}
	x, _ := strconv.Atoi(m[1])
	if x != refMajor {
		return 0, 0, 0, fmt.Errorf("release %s: the actions' ref is %s (wrapper.Ref); a major release raises it, and wrapper.TaskMajor, first", version, wrapper.Ref)
	}
	minor, _ = strconv.Atoi(m[2])
	patch, _ = strconv.Atoi(m[3])
	return wrapper.TaskMajor, minor, patch, nil
}

// GenerateRelease renders a release's wrappers: each step's action.yml on
// its image pinned by digest, the root action on the step actions at
// v<version>, and the Azure task folders and extension manifest at the
// release's versions. No reference pages: they are not shipped. The files
// are meant for an output folder, never the repository: the committed
// wrappers keep the moving tags.
func GenerateRelease(root string, steps []step.Step, r Release) ([]File, error) {
	_, minor, patch, err := TaskVersion(r.Version)
	if err != nil {
		return nil, err
	}
	return generate(root, steps, variant{
		image: func(s step.Step) (string, error) {
			ref, ok := r.Images[s.Name]
			if !ok {
				return "", fmt.Errorf("step %q: no released image (a release pins every image by digest)", s.Name)
			}
			if _, err := name.NewDigest(ref, name.StrictValidation); err != nil {
				return "", fmt.Errorf("step %q: image %q: want repository@sha256:<digest>: %w", s.Name, ref, err)
			}
			return ref, nil
		},
		ref:   "v" + r.Version,
		minor: minor,
		patch: patch,
		ext:   r.Version,
	})
}

// ImageDigests reads the digest of each step's image from the OCI layouts
// tools/imagegen wrote, dir/gitship-<step>/index.json, and returns the
// images as repo/gitship-<step>@<digest>. The digest is the one the layout
// holds: the multi-platform index, which is what a registry serves for the
// tag once it is pushed.
func ImageDigests(dir, repo string, steps []step.Step) (map[string]string, error) {
	images := map[string]string{}
	for _, s := range steps {
		p := filepath.Join(dir, "gitship-"+s.Name, "index.json")
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("image of %s: %w (build the images first: go run ./tools/imagegen -out %s)", s.Name, err, dir)
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(idx.Manifests) != 1 {
			return nil, fmt.Errorf("%s: %d manifests, want the one image index imagegen writes", p, len(idx.Manifests))
		}
		if !idx.Manifests[0].MediaType.IsIndex() {
			return nil, fmt.Errorf("%s: holds a %s, want a multi-platform image index", p, idx.Manifests[0].MediaType)
		}
		images[s.Name] = strings.TrimSuffix(repo, "/") + "/gitship-" + s.Name + "@" + idx.Manifests[0].Digest.String()
	}
	return images, nil
}
