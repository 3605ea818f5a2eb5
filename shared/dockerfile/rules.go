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
	ruleInlinePragma      = "DL1001"
	ruleWorkdirRelative   = "DL3000"
	ruleUselessCmd        = "DL3001"
	ruleRootUser          = "DL3002"
	ruleCd                = "DL3003"
	ruleSudo              = "DL3004"
	ruleUntagged          = "DL3006"
	ruleLatest            = "DL3007"
	ruleAptPin            = "DL3008"
	ruleAptLists          = "DL3009"
	ruleAddArchive        = "DL3010"
	rulePort              = "DL3011"
	ruleHealthchecks      = "DL3012"
	rulePipPin            = "DL3013"
	ruleAptYes            = "DL3014"
	ruleAptRecommends     = "DL3015"
	ruleNpmPin            = "DL3016"
	ruleApkPin            = "DL3018"
	ruleApkCache          = "DL3019"
	ruleAdd               = "DL3020"
	ruleCopyDest          = "DL3021"
	ruleCopyFromUnknown   = "DL3022"
	ruleCopyFromSelf      = "DL3023"
	ruleDuplicateStage    = "DL3024"
	ruleShellForm         = "DL3025"
	ruleRegistry          = "DL3026"
	ruleApt               = "DL3027"
	ruleGemPin            = "DL3028"
	rulePlatform          = "DL3029"
	ruleYumYes            = "DL3030"
	ruleYumClean          = "DL3032"
	ruleYumPin            = "DL3033"
	ruleZypperYes         = "DL3034"
	ruleZypperDup         = "DL3035"
	ruleZypperClean       = "DL3036"
	ruleZypperPin         = "DL3037"
	ruleDnfYes            = "DL3038"
	ruleDnfClean          = "DL3040"
	ruleDnfPin            = "DL3041"
	rulePipCache          = "DL3042"
	ruleOnbuildTrigger    = "DL3043"
	ruleEnvSelfRef        = "DL3044"
	ruleCopyRelative      = "DL3045"
	ruleUseradd           = "DL3046"
	ruleWgetProgress      = "DL3047"
	ruleLabelKey          = "DL3048"
	ruleLabelMissing      = "DL3049"
	ruleLabelExtra        = "DL3050"
	ruleLabelEmpty        = "DL3051"
	ruleLabelURL          = "DL3052"
	ruleLabelTime         = "DL3053"
	ruleLabelSPDX         = "DL3054"
	ruleLabelHash         = "DL3055"
	ruleLabelSemVer       = "DL3056"
	ruleHealthMissing     = "DL3057"
	ruleLabelEmail        = "DL3058"
	ruleRunConsecutive    = "DL3059"
	ruleYarnCache         = "DL3060"
	ruleOrder             = "DL3061"
	ruleGoPin             = "DL3062"
	ruleMaintainer        = "DL4000"
	ruleCmds              = "DL4003"
	ruleEntrypoints       = "DL4004"
	ruleShellLink         = "DL4005"
	rulePipefail          = "DL4006"
	ruleWgetCurl          = "DL4001"
	ruleTargetMissing     = "GS1001"
	hadolintWiki          = "https://github.com/hadolint/hadolint/wiki/"
	gitshipTargetsHelpURI = "https://docs.docker.com/build/building/multi-stage/#stop-at-a-specific-build-stage"
)

// rules is the one table of rule metadata, sorted by ID. It is never
// modified; Rules hands out a copy.
var rules = []finding.Rule{
	hadolint(ruleSyntax, "syntax-error", finding.Error,
		"the Dockerfile does not parse, so docker build fails before it starts"),
	hadolint(ruleInlinePragma, "inline-ignore", finding.None,
		"off by default (override it to a severity to enable): inline ignore pragmas hide exceptions from review; .hadolint.yaml lists them in one place"),
	hadolint(ruleWorkdirRelative, "workdir-relative", finding.Error,
		"a relative WORKDIR depends on the previous one and on the base image, so it changes under you"),
	hadolint(ruleUselessCmd, "run-pointless-command", finding.Info,
		"ssh, vim, service, top, kill, mount and the like have nothing to act on in an image build"),
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
	hadolint(ruleAptPin, "apt-get-unpinned", finding.Warning,
		"apt-get install without versions installs whatever the mirror has that day, so rebuilds differ"),
	hadolint(ruleAptLists, "apt-lists-kept", finding.Info,
		"apt lists left in the layer add tens of MB to the image and go stale"),
	hadolint(ruleAddArchive, "copy-then-extract", finding.Info,
		"copying an archive and extracting it in a RUN stores it twice; ADD extracts it in one layer"),
	hadolint(rulePort, "expose-port-range", finding.Error,
		"a port outside 0-65535 is rejected when the container starts"),
	hadolint(ruleHealthchecks, "healthcheck-multiple", finding.Error,
		"only the last HEALTHCHECK of a stage counts, so earlier ones are dead code"),
	hadolint(rulePipPin, "pip-unpinned", finding.Warning,
		"pip install without versions installs whatever PyPI has that day, so rebuilds differ"),
	hadolint(ruleAptYes, "apt-get-no-yes", finding.Warning,
		"apt-get install waits for a confirmation nobody can give during a build"),
	hadolint(ruleAptRecommends, "apt-get-recommends", finding.Info,
		"recommended packages are rarely needed in an image and make it larger"),
	hadolint(ruleNpmPin, "npm-unpinned", finding.Warning,
		"npm install of a package without a version installs whatever the registry has that day"),
	hadolint(ruleApkPin, "apk-unpinned", finding.Warning,
		"apk add without versions installs whatever the Alpine mirror has that day, so rebuilds differ"),
	hadolint(ruleApkCache, "apk-cache", finding.Info,
		"apk add without --no-cache leaves the package index in the layer"),
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
	hadolint(ruleRegistry, "registry-untrusted", finding.Error,
		"a base image from a registry outside trustedRegistries (.hadolint.yaml) escapes the organisation's image policy"),
	hadolint(ruleApt, "apt", finding.Warning,
		"apt is an interactive front end without a stable CLI; scripts should use apt-get or apt-cache"),
	hadolint(ruleGemPin, "gem-unpinned", finding.Warning,
		"gem install without versions installs whatever rubygems.org has that day, so rebuilds differ"),
	hadolint(rulePlatform, "from-platform", finding.Warning,
		"a fixed FROM --platform pins the stage to one platform, so multi-platform builds emulate or fail"),
	hadolint(ruleYumYes, "yum-no-yes", finding.Warning,
		"yum install waits for a confirmation nobody can give during a build"),
	hadolint(ruleYumClean, "yum-cache", finding.Warning,
		"yum's package cache left in the layer makes the image larger"),
	hadolint(ruleYumPin, "yum-unpinned", finding.Warning,
		"yum install without versions installs whatever the mirror has that day, so rebuilds differ"),
	hadolint(ruleZypperYes, "zypper-no-yes", finding.Warning,
		"zypper install waits for a confirmation nobody can give during a build"),
	hadolint(ruleZypperDup, "zypper-dist-upgrade", finding.Warning,
		"zypper dist-upgrade moves the whole distribution to whatever the mirror has; the base image should do that"),
	hadolint(ruleZypperClean, "zypper-cache", finding.Warning,
		"zypper's package cache left in the layer makes the image larger"),
	hadolint(ruleZypperPin, "zypper-unpinned", finding.Warning,
		"zypper install without versions installs whatever the mirror has that day, so rebuilds differ"),
	hadolint(ruleDnfYes, "dnf-no-yes", finding.Warning,
		"dnf install waits for a confirmation nobody can give during a build"),
	hadolint(ruleDnfClean, "dnf-cache", finding.Warning,
		"dnf's package cache left in the layer makes the image larger"),
	hadolint(ruleDnfPin, "dnf-unpinned", finding.Warning,
		"dnf install without versions installs whatever the mirror has that day, so rebuilds differ"),
	hadolint(rulePipCache, "pip-cache", finding.Warning,
		"pip keeps every downloaded package in its cache, which ends up in the layer"),
	hadolint(ruleOnbuildTrigger, "onbuild-trigger", finding.Error,
		"ONBUILD cannot trigger ONBUILD, FROM or MAINTAINER; the build fails"),
	hadolint(ruleEnvSelfRef, "env-self-reference", finding.Error,
		"a variable set in an ENV is not yet set for the rest of that ENV, so the reference gets the old value"),
	hadolint(ruleCopyRelative, "copy-relative-no-workdir", finding.Warning,
		"COPY to a relative path without WORKDIR lands wherever the base image's WORKDIR points, which can change"),
	hadolint(ruleUseradd, "useradd-high-uid", finding.Warning,
		"useradd with a high UID and without -l writes lastlog/faillog files sized by the UID into the layer"),
	hadolint(ruleWgetProgress, "wget-progress", finding.Info,
		"wget's default progress output writes a line per chunk and bloats the build log"),
	hadolint(ruleLabelKey, "label-key", finding.Info,
		"label keys outside Docker's format, or in namespaces Docker reserves, confuse tools that read them"),
	hadolint(ruleLabelMissing, "label-missing", finding.Info,
		"a label the .hadolint.yaml label-schema requires is missing, so tools that read it find nothing"),
	hadolint(ruleLabelExtra, "label-superfluous", finding.Info,
		"with strict-labels, labels outside the label-schema are not allowed"),
	hadolint(ruleLabelEmpty, "label-empty", finding.Warning,
		"a label of the label-schema is set to an empty value"),
	hadolint(ruleLabelURL, "label-url", finding.Warning,
		"a label-schema url label does not hold a URL"),
	hadolint(ruleLabelTime, "label-rfc3339", finding.Warning,
		"a label-schema rfc3339 label does not hold an RFC 3339 time"),
	hadolint(ruleLabelSPDX, "label-spdx", finding.Warning,
		"a label-schema spdx label does not hold an SPDX license identifier"),
	hadolint(ruleLabelHash, "label-git-hash", finding.Warning,
		"a label-schema hash label does not hold a git commit hash"),
	hadolint(ruleLabelSemVer, "label-semver", finding.Warning,
		"a label-schema semver label does not hold a semantic version"),
	hadolint(ruleHealthMissing, "healthcheck-missing", finding.None,
		"off by default (override it to a severity to enable): without HEALTHCHECK the engine cannot tell a hung container from a working one"),
	hadolint(ruleLabelEmail, "label-email", finding.Warning,
		"a label-schema email label does not hold an e-mail address"),
	hadolint(ruleRunConsecutive, "run-consecutive", finding.Info,
		"each RUN is a layer; consecutive one-command RUNs make more layers than needed"),
	hadolint(ruleYarnCache, "yarn-cache", finding.Info,
		"yarn's package cache left in the layer makes the image larger"),
	hadolint(ruleOrder, "instruction-order", finding.Error,
		"only ARG may come before the first FROM; anything else fails the build"),
	hadolint(ruleGoPin, "go-install-unpinned", finding.Warning,
		"go install without @version builds whatever the module's default branch has that day"),
	hadolint(ruleMaintainer, "maintainer", finding.Error,
		"MAINTAINER is deprecated; LABEL org.opencontainers.image.authors carries the same information"),
	hadolint(ruleWgetCurl, "wget-and-curl", finding.Warning,
		"a stage that uses both wget and curl needs two download tools where one does"),
	hadolint(ruleCmds, "cmd-multiple", finding.Warning,
		"only the last CMD of a stage counts, so earlier ones are dead code"),
	hadolint(ruleEntrypoints, "entrypoint-multiple", finding.Error,
		"only the last ENTRYPOINT of a stage counts, so earlier ones are dead code"),
	hadolint(ruleShellLink, "shell-link", finding.Warning,
		"linking /bin/sh to another shell changes it behind every later RUN; SHELL says so in the Dockerfile"),
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
