package fal

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Request headers fal honours on the calls that start work.
const (
	// headerRequestTimeout is how many seconds fal may take to start a job
	// (queue wait, runner acquisition, retries); a job not started by then
	// fails with 504 and is never billed.
	headerRequestTimeout = "X-Fal-Request-Timeout"
	// headerLifecycle sets how long fal keeps the media a job produces.
	headerLifecycle = "X-Fal-Object-Lifecycle-Preference"
	// headerPriority is the queue priority, "low" or "normal".
	headerPriority = "X-Fal-Queue-Priority"
)

// Queue priorities fal takes.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
)

type priorityKey struct{}

// WithQueuePriority returns a context whose queue submits ask fal for the
// given priority (PriorityLow or PriorityNormal; "" leaves fal's default).
func WithQueuePriority(ctx context.Context, priority string) context.Context {
	if priority == "" {
		return ctx
	}
	return context.WithValue(ctx, priorityKey{}, priority)
}

// runHeaders are the headers of every call that makes fal produce media:
// how long fal keeps that media (MediaTTL), when set.
func (c *Client) runHeaders() http.Header {
	h := http.Header{}
	if c.opt.MediaTTL > 0 {
		secs := int64((c.opt.MediaTTL + time.Second - 1) / time.Second)
		h.Set(headerLifecycle, `{"expiration_duration_seconds": `+strconv.FormatInt(secs, 10)+`}`)
	}
	return h
}

// submitHeaders adds what a queue submit takes beside runHeaders: the time
// left before ctx's deadline, as the longest fal may keep the job waiting
// to start (a job that never started is then dropped, not billed), and the
// queue priority carried by ctx.
func (c *Client) submitHeaders(ctx context.Context) http.Header {
	h := c.runHeaders()
	if deadline, ok := ctx.Deadline(); ok {
		secs := max(int64(time.Until(deadline)/time.Second), 1)
		h.Set(headerRequestTimeout, strconv.FormatInt(secs, 10))
	}
	if p, _ := ctx.Value(priorityKey{}).(string); p != "" {
		h.Set(headerPriority, p)
	}
	return h
}
