package dockerfile

import (
	"regexp"
	"strings"
)

// pragmaRe matches the ignore pragmas of hadolint and gitship, with the
// comment marker already stripped:
//
//	hadolint ignore=DL3006,DL3008        the next instruction
//	hadolint stage ignore=DL3008         the rest of the stage
//	gitship global ignore=DL3003         the whole file
//
// Anything after the ID list (a reason, say) is allowed and dropped.
var pragmaRe = regexp.MustCompile(`(?i)^(hadolint|gitship)\s+(?:(global|stage)\s+)?ignore\s*=\s*([A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*)`)

// Pragma scopes.
const (
	scopeNext   = ""
	scopeStage  = "stage"
	scopeGlobal = "global"
)

// parsePragma reads one comment (without "#"). ok is false when the comment
// is not an ignore pragma.
func parsePragma(comment string) (ids []string, scope string, ok bool) {
	m := pragmaRe.FindStringSubmatch(strings.TrimSpace(comment))
	if m == nil {
		return nil, "", false
	}
	for id := range strings.SplitSeq(m[3], ",") {
		ids = append(ids, normalizeID(id))
	}
	return ids, strings.ToLower(m[2]), true
}

// inlineIgnores collects the IDs that the comments right before an
// instruction silence. BuildKit hands those comments over as PrevComment.
func inlineIgnores(comments []string) map[string]bool {
	return pragmaIDs(comments, scopeNext)
}

// pragmaIDs collects the IDs of the pragmas of one scope among comments.
func pragmaIDs(comments []string, scope string) map[string]bool {
	var set map[string]bool
	for _, c := range comments {
		ids, sc, ok := parsePragma(c)
		if !ok || sc != scope {
			continue
		}
		if set == nil {
			set = map[string]bool{}
		}
		for _, id := range ids {
			set[id] = true
		}
	}
	return set
}

// globalIgnores scans every comment line of the source, because BuildKit
// attaches comments to the next instruction (or drops them at the end of
// the file) and a global pragma may sit anywhere.
func globalIgnores(lines []string) map[string]bool {
	set := map[string]bool{}
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "#") {
			continue
		}
		ids, scope, ok := parsePragma(t[1:])
		if !ok || scope != scopeGlobal {
			continue
		}
		for _, id := range ids {
			set[id] = true
		}
	}
	return set
}
