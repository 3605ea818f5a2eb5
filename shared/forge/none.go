package forge

import (
	"context"
	"fmt"
)

// None is the provider of a repository without pull requests: the step
// pushes a branch, or commits to the base branch, itself.
type None struct{}

var _ Provider = None{}

// Name is "none".
func (None) Name() string { return "none" }

// Ensure opens nothing: it returns a zero Result.
func (None) Ensure(context.Context, Request) (Result, error) { return Result{}, nil }

// Get fails: there are no pull requests to read.
func (None) Get(_ context.Context, number int) (PullRequest, error) {
	return PullRequest{}, fmt.Errorf("none: pull request #%d: %w", number, ErrUnsupported)
}

// BodyLimit is 0: no limit.
func (None) BodyLimit() int { return 0 }
