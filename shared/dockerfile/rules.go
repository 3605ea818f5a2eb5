package dockerfile

import (
	"slices"
	"strings"

	"github.com/gitship/gitship/shared/finding"
)

// Rule IDs. DLxxxx are hadolint's, so that ignore pragmas and .hadolint.yaml
// files keep working; GSxxxx are gitship's own.
const (
	ruleSyntax            = "DL1000"
	ruleWorkdirRelative   = "DL3000"
	ruleRootUser          = "DL3002"
	ruleCd                = "DL3003"
	ruleSudo              = "DL3004"
	ruleUntagged          = "DL3006"
	ruleLatest            = "DL3007"
	ruleAptLists          = "DL3009"
	rulePort              = "DL3011"
	ruleHealthchecks      = "DL3012"
	ruleAptYes            = "DL3014"
	ruleAptRecommends     = "DL3015"
	ruleAdd               = "DL3020"
	ruleCopyDest          = "DL3021"
	ruleCopyFromUnknown   = "DL3022"
	ruleCopyFromSelf      = "DL3023"
	ruleDuplicateStage    = "DL3024"
	ruleShellForm         = "DL3025"
	ruleApt               = "DL3027"
	ruleOrder             = "DL3061"
	ruleMaintainer        = "DL4000"
	ruleCmds              = "DL4003"
	ruleEntrypoints       = "DL4004"
	rulePipefail          = "DL4006"
	ruleTargetMissing     = "GS1001"
	hadolintWiki          = "https://github.com/hadolint/hadolint/wiki/"
	gitshipTargetsHelpURI = "https://docs.docker.com/build/building/multi-stage/#stop-at-a-specific-build-stage"
)

// rules is the one table of rule metadata, sorted by ID. It is never
// modified; Rules hands out a copy.
var rules = []finding.Rule{
	hadolint(ruleSyntax, "syntax-error", finding.Error,
		"the Dockerfile does not parse, so docker build fails before it starts"),
	hadolint(ruleWorkdirRelative, "workdir-relative", finding.Error,
		"a relative WORKDIR depends on the previous one and on the base image, so it changes under you"),
	hadolint(ruleRootUser, "user-root", finding.Warning,
		"a container that runs as root turns any breakout or RCE into root on the image's files"),
	hadolint(ruleCd, "run-cd", finding.Warning,
		"cd in RUN lasts for one RUN only; WORKDIR states the directory for every later instruction"),
	hadolint(ruleSudo, "run-sudo", finding.Error,
		"RUN already runs as the current USER; sudo adds a setuid binary and TTY/PAM behaviour that breaks builds"),
	hadolint(ruleUntagged, "image-untagged", finding.Warning,
		"an untagged image means latest, which changes under you and makes builds unreproducible"),
	hadolint(ruleLatest, "image-latest", finding.Warning,
		"the latest tag moves, so the same Dockerfile builds different images over time"),
	hadolint(ruleAptLists, "apt-lists-kept", finding.Info,
		"apt lists left in the layer add tens of MB to the image and go stale"),
	hadolint(rulePort, "expose-port-range", finding.Error,
		"a port outside 0-65535 is rejected when the container starts"),
	hadolint(ruleHealthchecks, "healthcheck-multiple", finding.Error,
		"only the last HEALTHCHECK of a stage counts, so earlier ones are dead code"),
	hadolint(ruleAptYes, "apt-get-no-yes", finding.Warning,
		"apt-get install waits for a confirmation nobody can give during a build"),
	hadolint(ruleAptRecommends, "apt-get-recommends", finding.Info,
		"recommended packages are rarely needed in an image and make it larger"),
	hadolint(ruleAdd, "add-local", finding.Error,
		"ADD of local files silently unpacks archives and fetches URLs; COPY does only what it says"),
	hadolint(ruleCopyDest, "copy-dest-slash", finding.Error,
		"with several sources the destination must be a directory ending in /, or the build fails"),
	hadolint(ruleCopyFromUnknown, "copy-from-unknown", finding.Warning,
		"--from that names no earlier stage pulls an image of that name from a registry instead"),
	hadolint(ruleCopyFromSelf, "copy-from-self", finding.Error,
		"a stage cannot copy from itself: the build fails with a circular dependency"),
	hadolint(ruleDuplicateStage, "stage-duplicate", finding.Error,
		"two stages with one name make --from and --target ambiguous"),
	hadolint(ruleShellForm, "exec-form", finding.Warning,
		"shell form runs the process under /bin/sh -c, which does not forward SIGTERM, so stops hang until SIGKILL"),
	hadolint(ruleApt, "apt", finding.Warning,
		"apt is an interactive front end without a stable CLI; scripts should use apt-get or apt-cache"),
	hadolint(ruleOrder, "instruction-order", finding.Error,
		"only ARG may come before the first FROM; anything else fails the build"),
	hadolint(ruleMaintainer, "maintainer", finding.Error,
		"MAINTAINER is deprecated; LABEL org.opencontainers.image.authors carries the same information"),
	hadolint(ruleCmds, "cmd-multiple", finding.Warning,
		"only the last CMD of a stage counts, so earlier ones are dead code"),
	hadolint(ruleEntrypoints, "entrypoint-multiple", finding.Error,
		"only the last ENTRYPOINT of a stage counts, so earlier ones are dead code"),
	hadolint(rulePipefail, "pipefail", finding.Warning,
		"without pipefail a failing command before | is ignored and the build goes on with broken output"),
	{
		ID:       ruleTargetMissing,
		Name:     "target-missing",
		Severity: finding.Error,
		Summary:  "a build --target that names no stage fails the build step after the lint passed",
		HelpURI:  gitshipTargetsHelpURI,
	},
}

func hadolint(id, name string, sev finding.Severity, summary string) finding.Rule {
	return finding.Rule{ID: id, Name: name, Severity: sev, Summary: summary, HelpURI: hadolintWiki + id}
}

// Rules lists every rule Lint can report, sorted by ID.
func Rules() []finding.Rule {
	rs := slices.Clone(rules)
	slices.SortFunc(rs, func(a, b finding.Rule) int { return strings.Compare(a.ID, b.ID) })
	return rs
}

// defaultSeverity returns the table severity of id, or 0 if id is unknown.
func defaultSeverity(id string) finding.Severity {
	for _, r := range rules {
		if r.ID == id {
			return r.Severity
		}
	}
	return 0
}
