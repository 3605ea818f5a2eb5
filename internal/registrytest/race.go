package registrytest

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// TagRace orders two concurrent runs' writes of one tag, through a
// Proxy's Faults.Hold, into one of the two interleavings that decide who
// keeps the tag:
//
//   - Together: both runs have checked that the tag is absent, then both
//     write it, one after the other, and only then does either read it back.
//     A registry without conditional writes keeps the second; one with
//     them refuses the second (412).
//   - After: the first run to write is held after its check until Release;
//     the other run writes, reads back and finishes meanwhile. A registry
//     without conditional writes then lets the held run overwrite the tag:
//     the window between another run's check and its write.
//
// Every wait gives up after a minute, so a run that never comes does not
// hang the test; its assertions fail instead.
type TagRace struct {
	tag   string
	after bool
	// Held is closed when a write of the tag is held (After).
	Held chan struct{}

	mu                              sync.Mutex
	puts                            int
	second, firstDone, secondDone   chan struct{}
	release                         chan struct{}
	releaseOnce, heldOnce, doneOnce sync.Once
}

// NewTagRace makes a TagRace for tag; after picks the After interleaving.
func NewTagRace(tag string, after bool) *TagRace {
	return &TagRace{tag: tag, after: after, Held: make(chan struct{}), second: make(chan struct{}),
		firstDone: make(chan struct{}), secondDone: make(chan struct{}), release: make(chan struct{})}
}

// Release lets the held write go on (After).
func (r *TagRace) Release() { r.releaseOnce.Do(func() { close(r.release) }) }

// Hold is the Proxy's Faults.Hold.
func (r *TagRace) Hold(req *http.Request) func() {
	if !strings.HasSuffix(req.URL.Path, "/manifests/"+r.tag) {
		return nil
	}
	if req.Method != http.MethodPut {
		// A read back between the two writes waits for the second.
		if !r.after && closed(r.firstDone) {
			wait(r.secondDone)
		}
		return nil
	}
	r.mu.Lock()
	r.puts++
	n := r.puts
	r.mu.Unlock()
	switch {
	case r.after && n == 1:
		r.heldOnce.Do(func() { close(r.Held) })
		wait(r.release)
	case !r.after && n == 1:
		wait(r.second)
		return func() { close(r.firstDone) }
	case !r.after && n == 2:
		close(r.second)
		wait(r.firstDone)
		return func() { r.doneOnce.Do(func() { close(r.secondDone) }) }
	}
	return nil
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func wait(c chan struct{}) {
	select {
	case <-c:
	case <-time.After(time.Minute):
	}
}
