package forgetest

import (
	"fmt"
	"sync"
	"time"
)

// pullRequest is what a fake keeps of one pull request: its number (the
// GitHub number, the Azure id) and a deep copy to hand out.
type pullRequest[P any] interface {
	*P
	number() int
	open() bool // not merged, closed or abandoned yet
	// finish merges it (Azure: completes) or closes it without merging
	// (Azure: abandons), at now.
	finish(merged bool, now time.Time)
	clone() P
}

// store keeps a fake's pull requests, numbered from 1 in the order they
// were opened. mu guards them and the rest of the fake's changing state;
// handlers hold it while they read or change a pull request.
type store[P any, PP pullRequest[P]] struct {
	mu  sync.Mutex
	prs []*P
}

// PR returns a copy of pull request n.
func (s *store[P, PP]) PR(n int) (P, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.find(n); p != nil {
		return PP(p).clone(), true
	}
	var zero P
	return zero, false
}

// PRs returns copies of all pull requests, by number.
func (s *store[P, PP]) PRs() []P {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]P, len(s.prs))
	for i, p := range s.prs {
		out[i] = PP(p).clone()
	}
	return out
}

// find returns pull request n, nil if there is none; call with mu held.
func (s *store[P, PP]) find(n int) *P {
	for _, p := range s.prs {
		if PP(p).number() == n {
			return p
		}
	}
	return nil
}

// finish merges or closes open pull request n, as a user does on the
// forge; it fails when there is no such open pull request.
func (s *store[P, PP]) finish(n int, merged bool) error {
	return s.finishWith(n, merged, nil)
}

// finishWith is finish, then set, under the store's lock.
func (s *store[P, PP]) finishWith(n int, merged bool, set func(PP)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.find(n)
	if p == nil || !PP(p).open() {
		return fmt.Errorf("forge fake: no open pull request %d", n)
	}
	PP(p).finish(merged, time.Now().UTC())
	if set != nil {
		set(PP(p))
	}
	return nil
}

// deref is what an optional field of a request's JSON holds, the zero
// value when it is absent.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
