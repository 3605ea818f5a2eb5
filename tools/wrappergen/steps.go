package main

import (
	"github.com/gitship/gitship/shared/step"
	"github.com/gitship/gitship/shared/steps/build"
	"github.com/gitship/gitship/shared/steps/gitopspr"
	"github.com/gitship/gitship/shared/steps/lint"
	"github.com/gitship/gitship/shared/steps/publish"
	"github.com/gitship/gitship/shared/steps/validate"
	"github.com/gitship/gitship/shared/steps/verify"
)

// Steps are the steps that get wrappers. Adding a step is one line here,
// then go run ./tools/wrappergen.
func Steps() []step.Step {
	return []step.Step{
		lint.Step(),
		build.Step(),
		validate.Step(),
		publish.Step(),
		gitopspr.Step(),
		verify.Step(),
	}
}

// Versions of what is published. The Azure agent caches a task by its
// version: a release that changes a task must raise taskMinor or
// taskPatch, and extensionVersion with it.
const (
	taskMinor        = 0
	taskPatch        = 0
	extensionVersion = "0.1.0"
)
