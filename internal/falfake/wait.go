package falfake

import (
	"context"
	"time"
)

// sleep waits for d or until ctx ends; it reports whether the full time
// passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pacer spaces the events of a stream on a fixed schedule, start + n×every,
// as a model produces tokens at its own pace whoever reads them: one late
// wake-up does not push back every later event.
type pacer struct {
	start time.Time
	every time.Duration
	n     int
}

func newPacer(every time.Duration) *pacer { return &pacer{start: time.Now(), every: every} }

// next waits for the next slot; false if ctx ended first.
func (p *pacer) next(ctx context.Context) bool {
	p.n++
	return sleep(ctx, time.Until(p.start.Add(time.Duration(p.n)*p.every)))
}
