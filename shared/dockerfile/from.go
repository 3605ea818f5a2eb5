package dockerfile

import (
	"slices"
	"strings"
)

// from opens a stage and checks its base image and name.
func (l *linter) from(in *instr) {
	st := &stage{index: len(l.stages), line: in.line, from: in}
	if len(in.args) > 0 {
		st.image = in.args[0]
	}
	if len(in.args) >= 3 && strings.EqualFold(in.args[1], "as") {
		st.name = strings.ToLower(in.args[2])
	}
	parent := l.stageNamed(st.image)
	st.parent = parent
	if parent != nil {
		// A stage built on an earlier one inherits its image config, SHELL
		// included.
		st.shell = parent.shell
		parent.base = true
	}
	if parent == nil {
		l.baseImage(in, st.image)
		l.trustedRegistry(in, st.image, l.cfg.TrustedRegistries)
	}
	l.platformFlag(in)
	if st.name != "" {
		if first := l.stageNamed(st.name); first != nil {
			l.at(in, ruleDuplicateStage, in.args[2],
				"stage name %q is already used by the stage at line %d: --from and --target cannot tell them apart", st.name, first.line)
		}
	}
	l.stages = append(l.stages, st)
}

// stageNamed finds an earlier stage by its AS name; BuildKit compares stage
// names case-insensitively.
func (l *linter) stageNamed(name string) *stage {
	if name == "" {
		return nil
	}
	for _, st := range l.stages {
		if st.name != "" && strings.EqualFold(st.name, name) {
			return st
		}
	}
	return nil
}

// baseImage checks the tag of an image reference (DL3006, DL3007).
func (l *linter) baseImage(in *instr, image string) {
	if image == "" || strings.EqualFold(image, "scratch") {
		return
	}
	ref := parseRef(image)
	if ref.digest != "" {
		return
	}
	switch {
	case ref.tag == "":
		// A variable in the last component may carry the tag
		// (FROM $BASE, FROM golang$SUFFIX); only a build arg tells.
		if strings.Contains(ref.last, "$") {
			return
		}
		l.at(in, ruleUntagged, image,
			"base image %q has no tag: pin a version (%s:<version>) or a digest", image, ref.name)
	case ref.tag == "latest":
		l.at(in, ruleLatest, image,
			"base image %q uses the latest tag: pin a version (%s:<version>) or a digest", image, ref.name)
	}
}

// imageRef is an image reference split the way the registry reads it.
type imageRef struct {
	name   string // everything before the tag and digest
	last   string // last path component of name
	tag    string
	digest string
}

// parseRef splits [registry[:port]/]path[:tag][@digest]. A colon before the
// last slash belongs to the registry's port, not to the tag.
func parseRef(s string) imageRef {
	var r imageRef
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s, r.digest = s[:i], s[i+1:]
	}
	slash := strings.LastIndexByte(s, '/')
	if i := strings.LastIndexByte(s, ':'); i > slash {
		s, r.tag = s[:i], s[i+1:]
	}
	r.name = s
	r.last = s[slash+1:]
	return r
}

// checkTargets reports build targets that name no stage (GS1001).
func (l *linter) checkTargets(targets []string) {
	var names []string
	for _, st := range l.stages {
		if st.name != "" && !slices.Contains(names, st.name) {
			names = append(names, st.name)
		}
	}
	for _, t := range targets {
		if t == "" || l.stageNamed(t) != nil {
			continue
		}
		have := "it has no named stages"
		if len(names) > 0 {
			have = "stages: " + strings.Join(names, ", ")
		}
		l.report(nil, ruleTargetMissing, 1, 1, 0, "build target %q is not a stage of this Dockerfile (%s)", t, have)
	}
}
