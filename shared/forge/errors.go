package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gitship/gitship/shared/redact"
)

// APIError is a call the provider refused: its HTTP status and message.
// A 401 or 403 unwraps to ErrAuth.
type APIError struct {
	Provider string // "github", "azure"
	Status   int
	Message  string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Provider, e.Status, msg)
}

// Unwrap is ErrAuth for 401 and 403.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return ErrAuth
	}
	return nil
}

// statusOf is the HTTP status of a refused call, 0 if err is not one.
func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// retryable reports whether a failed call is worth another attempt: the
// server failed, not the request.
func retryable(err error) bool {
	s := statusOf(err)
	return s >= 500 || (s == 0 && err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded))
}

// masked is an error whose text has the token masked out.
type masked struct {
	msg string
	err error
}

func (m *masked) Error() string { return m.msg }
func (m *masked) Unwrap() error { return m.err }

// maskToken returns err with every occurrence of token in its text
// replaced by "***"; errors.Is and errors.As still see through it.
func maskToken(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return &masked{msg: strings.ReplaceAll(err.Error(), token, redact.Mask), err: err}
}
