package step

import (
	"errors"
	"fmt"
)

// Exit codes shared by every step.
const (
	ExitOK     = 0
	ExitFailed = 1 // the check failed, or the step could not do its job
	ExitUsage  = 2 // bad usage or configuration
)

// UsageError is bad input: an unknown flag, an invalid value, a missing or
// unreadable file the user named. It exits 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef builds a UsageError; the message should name the input and why.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ErrCheckFailed is returned (wrapped) when a step ran fine and found what
// makes it fail, e.g. findings at or above --fail-on. It exits 1.
var ErrCheckFailed = errors.New("check failed")

// ExitError fails a step with a given exit code: a step that runs a
// command (the build step's tests) exits with the command's code, as
// docker run does. Codes outside 1-255 exit 1.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error to the exit code. An unknown error is a failure,
// never success.
func ExitCode(err error) int {
	var usage *UsageError
	var exit *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &exit) && exit.Code > 0 && exit.Code < 256:
		return exit.Code
	default:
		return ExitFailed
	}
}
