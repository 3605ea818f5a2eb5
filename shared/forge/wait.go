package forge

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WaitMerged polls the pull request every poll (10s if 0) until it is merged, and
// fails when it is closed without merging (ErrClosed) or timeout passes
// (ErrTimeout); timeout 0 waits as long as ctx allows. A failed read is
// tried again at the next poll, unless the token is refused (ErrAuth) or
// the provider has no pull requests (ErrUnsupported).
func WaitMerged(ctx context.Context, p Provider, number int, timeout, poll time.Duration) (PullRequest, error) {
	if poll <= 0 {
		poll = 10 * time.Second
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()

	name := fmt.Sprintf("%s pull request #%d", p.Name(), number)
	var lastErr error
	for {
		pr, err := p.Get(ctx, number)
		switch {
		case err == nil:
			lastErr = nil
			if pr.URL != "" {
				name = "pull request " + pr.URL
			}
			switch pr.State {
			case Merged:
				return pr, nil
			case Closed:
				return pr, fmt.Errorf("%s: %w", name, ErrClosed)
			}
		case ctx.Err() != nil:
			return PullRequest{}, fmt.Errorf("wait for %s: %w", name, ctx.Err())
		case errors.Is(err, ErrAuth), errors.Is(err, ErrUnsupported):
			return PullRequest{}, fmt.Errorf("wait for %s: %w", name, err)
		default:
			lastErr = err
		}

		select {
		case <-ctx.Done():
			return PullRequest{}, fmt.Errorf("wait for %s: %w", name, ctx.Err())
		case <-expired:
			if lastErr != nil {
				return PullRequest{}, fmt.Errorf("%s after %s (last read: %v): %w", name, timeout, lastErr, ErrTimeout)
			}
			return PullRequest{}, fmt.Errorf("%s after %s: %w", name, timeout, ErrTimeout)
		case <-tick.C:
		}
	}
}
