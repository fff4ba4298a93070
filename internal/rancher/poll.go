package rancher

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// WaitOptions tune the Wait calls.
type WaitOptions struct {
	// Interval between polls; default Config.PollInterval. Each wait drifts ±10% so that
	// thousands of goroutines that started together do not poll Rancher in step.
	Interval time.Duration
}

func (c *Client) interval(d time.Duration) time.Duration {
	if d <= 0 {
		return c.poll
	}
	return d
}

// pollUntil calls check now and then every interval until it reports done, it fails with an
// error that retrying would not cure, or ctx ends. Errors that do() already retried in vain
// but that may yet heal (5xx, transport) do not end a wait: they are logged and the poll
// goes on, since a wait may outlast a short Rancher outage.
func (c *Client) pollUntil(ctx context.Context, interval time.Duration, what string, check func(context.Context) (bool, error)) error {
	interval = c.interval(interval)
	var lastErr error
	for n := 1; ; n++ {
		done, err := check(ctx)
		switch {
		case err == nil && done:
			return nil
		case err != nil && ctx.Err() == nil && retryable(err):
			lastErr = err
			c.log.WithField("wait", what).WithField("poll", n).WithError(err).Debug("poll failed; polling on")
		case err != nil:
			return err
		}
		jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(interval))
		t := time.NewTimer(interval + jitter)
		select {
		case <-ctx.Done():
			t.Stop()
			if lastErr != nil {
				return fmt.Errorf("waiting for %s: %w (last poll: %v)", what, ctx.Err(), lastErr)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}
