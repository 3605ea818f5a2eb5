// Package redact keeps secret values out of everything a step prints:
// a Redactor replaces them with "***" (ci.Writer applies it to every line
// a step prints), and URL, URLsIn and URLCredentials take the credentials
// out of URLs (a token in --gitops-repo, --repository, a remote) with one
// set of rules for every URL a step prints. It imports only the standard library, so that every
// package can use it.
package redact

import (
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
