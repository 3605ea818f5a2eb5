// Package redact keeps secret values out of everything a step prints:
// a Redactor replaces them with "***" in strings and in streams, and URL,
// URLsIn and URLCredentials take the credentials out of URLs (a token in
// --gitops-repo, --repository, a remote) with one set of rules for every
// URL a step prints. It imports only the standard library, so that every
// package can use it.
package redact

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
)

// Mask is what a secret is replaced with.
const Mask = "***"

// Redactor replaces known secret values. Its zero value redacts nothing.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// Add registers secrets. A multi-line secret is also registered line by line,
// since a stream may be cut between lines.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		for _, v := range append([]string{s}, strings.Split(s, "\n")...) {
			v = strings.TrimRight(v, "\r")
			if strings.TrimSpace(v) == "" || slices.Contains(r.secrets, v) {
				continue
			}
			r.secrets = append(r.secrets, v)
		}
	}
	// Longest first, so a secret that contains another is masked whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// Secrets returns the registered values (for masking commands).
func (r *Redactor) Secrets() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.secrets)
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, Mask)
	}
	return s
}

// Writer returns a writer that masks secrets before they reach w. It holds
// back an incomplete last line so a secret split across two writes is still
// caught; Flush (or Close) writes what is held back.
func (r *Redactor) Writer(w io.Writer) *Writer {
	return &Writer{r: r, w: w}
}

// Writer is a line-buffered redacting writer.
type Writer struct {
	mu  sync.Mutex
	r   *Redactor
	w   io.Writer
	buf []byte
}

// Write masks complete lines and passes them on.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	i := bytes.LastIndexByte(w.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	out := w.r.String(string(w.buf[:i+1]))
	w.buf = append(w.buf[:0], w.buf[i+1:]...)
	if _, err := io.WriteString(w.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a held-back partial line.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return nil
	}
	out := w.r.String(string(w.buf))
	w.buf = w.buf[:0]
	_, err := io.WriteString(w.w, out)
	return err
}

// Close flushes.
func (w *Writer) Close() error { return w.Flush() }
