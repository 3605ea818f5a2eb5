package dockerfile

import (
	_ "embed"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Label types of hadolint's label-schema.
const (
	labelText    = "text"
	labelURL     = "url"
	labelEmail   = "email"
	labelHash    = "hash"
	labelRFC3339 = "rfc3339"
	labelSemVer  = "semver"
	labelSPDX    = "spdx"
)

var labelTypes = []string{labelText, labelURL, labelEmail, labelHash, labelRFC3339, labelSemVer, labelSPDX}

// labelValues checks one LABEL against the configured label-schema:
// superfluous keys with strict-labels (DL3050), empty values (DL3051) and
// values that are not of the label's type (DL3052-DL3056, DL3058).
func (l *linter) labelValues(in *instr) {
	schema := l.cfg.LabelSchema
	var extra []string
	for i := 0; i+1 < len(in.args); i += 3 {
		key, value := unquote(in.args[i]), unquote(in.args[i+1])
		typ, ok := schema[key]
		if !ok {
			if l.cfg.StrictLabels {
				extra = append(extra, key)
			}
			continue
		}
		if value == "" {
			l.at(in, ruleLabelEmpty, "", "label %q is empty, but label-schema requires it", key)
			continue
		}
		if strings.Contains(value, "$") {
			continue // a build arg fills it in
		}
		switch typ {
		case labelURL:
			if u, err := url.Parse(value); err != nil || u.Scheme == "" || u.Host == "" {
				l.at(in, ruleLabelURL, "", "label %q is %q, not a URL (scheme://host/...)", key, value)
			}
		case labelRFC3339:
			if _, err := time.Parse(time.RFC3339Nano, value); err != nil {
				l.at(in, ruleLabelTime, "", "label %q is %q, not an RFC 3339 time (2006-01-02T15:04:05Z)", key, value)
			}
		case labelSPDX:
			if !spdxExpression(value) {
				l.at(in, ruleLabelSPDX, "", "label %q is %q, not an SPDX license identifier or expression (MIT, Apache-2.0 OR MIT)", key, value)
			}
		case labelHash:
			if !gitHash.MatchString(value) {
				l.at(in, ruleLabelHash, "", "label %q is %q, not a git commit hash (7 to 40 hex digits)", key, value)
			}
		case labelSemVer:
			if !semVer.MatchString(value) {
				l.at(in, ruleLabelSemVer, "", "label %q is %q, not a semantic version (1.2.3, 1.2.3-rc.1)", key, value)
			}
		case labelEmail:
			if a, err := mail.ParseAddress(value); err != nil || a.Name != "" {
				l.at(in, ruleLabelEmail, "", "label %q is %q, not an e-mail address (RFC 5322)", key, value)
			}
		}
	}
	if len(extra) > 0 {
		l.at(in, ruleLabelExtra, "", "label %s not in label-schema, and strict-labels is on", quoteList(extra))
	}
}

// checkLabelsPresent reports, per stage, each label of the schema that
// neither the stage nor the stages it is built on set (DL3049).
func (l *linter) checkLabelsPresent() {
	if len(l.cfg.LabelSchema) == 0 {
		return
	}
	keys := make([]string, 0, len(l.cfg.LabelSchema))
	for k := range l.cfg.LabelSchema {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, st := range l.stages {
		for _, k := range keys {
			if !st.hasLabel(k) && st.from != nil {
				l.at(st.from, ruleLabelMissing, "", "label %q of label-schema is not set in this stage", k)
			}
		}
	}
}

// hasLabel reports whether the stage or one it is built on set label k.
func (st *stage) hasLabel(k string) bool {
	for s, hops := st, 0; s != nil && hops < 64; s, hops = s.parent, hops+1 {
		if s.labels[k] {
			return true
		}
	}
	return false
}

// setLabels records a LABEL's keys.
func (st *stage) setLabels(args []string) {
	if st.labels == nil {
		st.labels = map[string]bool{}
	}
	for i := 0; i < len(args); i += 3 {
		st.labels[unquote(args[i])] = true
	}
}

var (
	gitHash = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)
	// semVer is semver.org's regular expression.
	semVer = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

//go:embed spdx.txt
var spdxList string

var spdxIDs = func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.SplitSeq(spdxList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// spdxExpression accepts an SPDX license expression: identifiers (with
// an optional +, or LicenseRef-...) joined by AND and OR, exceptions after
// WITH, parentheses.
func spdxExpression(s string) bool {
	fields := strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(s))
	if len(fields) == 0 {
		return false
	}
	wantID := true
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if wantID {
			id := strings.ToLower(strings.TrimSuffix(f, "+"))
			if !spdxIDs[id] && !strings.HasPrefix(id, "licenseref-") && !strings.HasPrefix(id, "documentref-") {
				return false
			}
			wantID = false
			continue
		}
		switch strings.ToUpper(f) {
		case "AND", "OR":
			wantID = true
		case "WITH":
			i++ // the exception
			if i >= len(fields) {
				return false
			}
		default:
			return false
		}
	}
	return !wantID
}
