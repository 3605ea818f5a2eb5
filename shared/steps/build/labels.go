package build

import (
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/gitship/gitship/shared/ci"
	"github.com/gitship/gitship/shared/redact"
	"github.com/gitship/gitship/shared/step"
)

// The OCI annotations (image-spec annotations.md) the final image is
// labelled with.
const (
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
	LabelVersion  = "org.opencontainers.image.version"
)

// ociLabels says which commit the image comes from. Created is the commit's
// time, not the build's, so two builds of one commit carry the same labels;
// SOURCE_DATE_EPOCH, the reproducible-builds convention, overrides it.
func ociLabels(c ci.Context, env lookupEnv) (map[string]string, error) {
	l := map[string]string{}
	if c.SHA != "" {
		l[LabelRevision] = c.SHA
	}
	if c.RepositoryURL != "" {
		l[LabelSource] = redact.URL(c.RepositoryURL)
	}
	created := c.CommitTime
	if v, ok := env("SOURCE_DATE_EPOCH"); ok && v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, step.Usagef("SOURCE_DATE_EPOCH %q: want seconds since 1970", v)
		}
		created = time.Unix(sec, 0)
	}
	if !created.IsZero() {
		l[LabelCreated] = created.UTC().Format(time.RFC3339)
	}
	if v := version(c.Tag); v != "" {
		l[LabelVersion] = v
	}
	return l, nil
}

// version is the tag as a version: "v1.2.3" is 1.2.3, as publish tags it;
// a tag that is no semver is kept as it is.
func version(tag string) string {
	if tag == "" {
		return ""
	}
	if v, err := semver.StrictNewVersion(strings.TrimPrefix(tag, "v")); err == nil {
		return v.String()
	}
	return tag
}
