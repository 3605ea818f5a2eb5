package schema

import (
	"fmt"
	"strings"
)

// Match is the embedded release a requested Kubernetes version is validated
// against: the one of its minor, whatever the patch, or with Nearest the
// embedded release nearest to a minor gitship has none of.
type Match struct {
	Requested string // as given, without a "v": "1.31.0", "1.31"
	Embedded  string // the embedded release: "1.31.14"
	Nearest   bool   // the requested minor is not embedded
}

// Note says how the schemas differ from the request: "" when the request
// names the embedded release, or only its minor.
func (m Match) Note() string {
	switch {
	case m.Nearest:
		return fmt.Sprintf("Kubernetes %s: no embedded schemas, using the nearest embedded release, %s", m.Requested, m.Embedded)
	case strings.Count(strings.TrimRight(m.Requested, "+"), ".") >= 2 && m.Requested != m.Embedded:
		minor := m.Embedded[:strings.LastIndex(m.Embedded, ".")]
		return fmt.Sprintf("Kubernetes %s: validating against %s, the %s patch gitship embeds", m.Requested, m.Embedded, minor)
	}
	return ""
}

// Resolve finds the embedded release for k8sVersion ("1.31", "1.31.0",
// "v1.31.2"): the one of its minor. With no such release it returns an
// error wrapping ErrUnknownVersion that names the embedded range, unless
// nearest: then the newest release stands for a later minor and the
// oldest for an earlier one.
func Resolve(k8sVersion string, nearest bool) (Match, error) {
	m := Match{Requested: strings.TrimPrefix(strings.TrimSpace(k8sVersion), "v")}
	rs, err := releases()
	if err != nil {
		return m, fmt.Errorf("embedded schemas: %w", err)
	}
	if len(rs) == 0 {
		return m, fmt.Errorf("kubernetes version %q: %w (none embedded)", k8sVersion, ErrUnknownVersion)
	}
	major, minor, err := parseMinor(m.Requested)
	if err != nil {
		return m, fmt.Errorf("kubernetes version %q: %w (embedded: %s)", k8sVersion, err, embeddedRange())
	}
	for _, r := range rs {
		if r.major == major && r.minor == minor {
			m.Embedded = r.version
			return m, nil
		}
	}
	if !nearest {
		return m, fmt.Errorf("kubernetes version %q: %w (embedded: %s)", k8sVersion, ErrUnknownVersion, embeddedRange())
	}
	m.Nearest = true
	first, last := rs[0], rs[len(rs)-1]
	if major < first.major || major == first.major && minor < first.minor {
		m.Embedded = first.version
	} else {
		m.Embedded = last.version
	}
	return m, nil
}

// embeddedRange names the embedded releases: "1.29 to 1.37 (1.29.15,
// 1.30.14, ...)", or the one release.
func embeddedRange() string {
	rs, _ := releases()
	switch len(rs) {
	case 0:
		return "none"
	case 1:
		return rs[0].version
	}
	minor := func(r *release) string { return fmt.Sprintf("%d.%d", r.major, r.minor) }
	return fmt.Sprintf("%s to %s, the latest patch of each: %s", minor(rs[0]), minor(rs[len(rs)-1]), strings.Join(Versions(), ", "))
}
