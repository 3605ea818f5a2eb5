package main

import (
	"testing"

	"github.com/gitship/gitship/internal/wrappertest"
)

// TestRealSteps runs the wrapper properties on the real steps: their
// action, task and docs parse, agree on every default, and a value passed
// the way each CI passes it reaches the step's flag.
func TestRealSteps(t *testing.T) {
	wrappertest.Check(t, Steps)
}
