package fal

import (
	"context"
	"time"
)

// A job Run abandons (the client left, the deadline passed) is reported
// unbilled, since its cancel is on its way. When fal answers that the job
// had already finished, and it finished without an error, fal bills it
// all the same: the caller hears it through the function the context of
// Run carries, in the background, once the cancel has settled.

type billedLateKey struct{}

// WithBilledLate returns a context under which Run calls billed with
// fal's request id of a job it abandoned that fal completed, and bills,
// before the cancel arrived.
func WithBilledLate(ctx context.Context, billed func(requestID string)) context.Context {
	return context.WithValue(ctx, billedLateKey{}, billed)
}

// lateStatusTimeout bounds the status read that tells a job that
// completed from one that failed.
const lateStatusTimeout = 10 * time.Second

// billedLate is the OnCancelSettled of a job Run submitted under ctx: nil
// when ctx carries no WithBilledLate function.
func (c *Client) billedLate(ctx context.Context, j *Job) func(outcome string) {
	billed, _ := ctx.Value(billedLateKey{}).(func(string))
	if billed == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	return func(outcome string) {
		if outcome != CancelAlreadyFinished {
			return
		}
		sctx, cancel := context.WithTimeout(ctx, lateStatusTimeout)
		defer cancel()
		// A job that failed is not billed; a status that cannot be read
		// leaves the job as fal most often ends it, completed.
		if st, err := c.status(sctx, j); err == nil && st.ErrorType != "" {
			return
		}
		billed(j.RequestID)
	}
}
