package fal

import (
	"context"
	"errors"
)

// A job Run abandons (the client left, the deadline passed) is reported
// unbilled, since its cancel is on its way. When fal answers that the job
// had already finished, and it finished without failing, fal bills it
// all the same: the caller hears it, with the job's result, through the
// function the context of Run carries, in the background, once the
// cancel has settled.

type billedLateKey struct{}

// WithBilledLate returns a context under which Run calls billed with
// fal's request id and the result of a job it abandoned that fal
// completed, and bills, before the cancel arrived.
func WithBilledLate(ctx context.Context, billed func(requestID string, result []byte)) context.Context {
	return context.WithValue(ctx, billedLateKey{}, billed)
}

// billedLateOf is the WithBilledLate function ctx carries, or nil.
func billedLateOf(ctx context.Context) func(string, []byte) {
	billed, _ := ctx.Value(billedLateKey{}).(func(string, []byte))
	return billed
}

// settleLate tells j's billedLate function about a job whose cancel came
// after it finished. The job's result decides, by the rule Result
// applies: a job that failed is not billed. A result that cannot be read
// within the cancel's retry budget (ctx) leaves it unknown whether fal
// bills the job; no charge is invented for it, and the log says so.
func (c *Client) settleLate(ctx context.Context, j *Job) {
	if j.billedLate == nil {
		return
	}
	body, err := c.Result(ctx, j)
	var fe *Error
	switch {
	case err == nil:
		j.billedLate(j.RequestID, body)
	case errors.As(err, &fe) && fe.JobFailed:
		// fal bills nothing for a failed job.
	default:
		c.log.Warn("the result of an abandoned fal job that finished could not be read; it is not charged",
			"request_id", j.RequestID, "err", err)
	}
}
