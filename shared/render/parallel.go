package render

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// inOrder runs f on every item on every core and joins the resources in
// the items' order; the error is the first item's, as one item after the
// other would give. Work is handed out by a counter, not a channel: no
// handoff per item.
func inOrder[T any](items []T, f func(T) ([]Resource, error)) ([]Resource, error) {
	per := make([][]Resource, len(items))
	errs := make([]error, len(items))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(items); i = int(next.Add(1) - 1) {
				per[i], errs[i] = f(items[i])
			}
		}()
	}
	wg.Wait()
	var out []Resource
	for i := range items {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, per[i]...)
	}
	return out, nil
}
