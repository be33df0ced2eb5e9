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

// WithQueuePriority returns a context whose calls that start work ask fal
// for the given priority (PriorityLow or PriorityNormal; "" leaves fal's default).
func WithQueuePriority(ctx context.Context, priority string) context.Context {
	if priority == "" {
		return ctx
	}
	return context.WithValue(ctx, priorityKey{}, priority)
}

// lifecycleValue is the X-Fal-Object-Lifecycle-Preference for a media
// lifetime, or "" for fal's default.
func lifecycleValue(ttl time.Duration) string {
	if ttl <= 0 {
		return ""
	}
	secs := int64((ttl + time.Second - 1) / time.Second)
	return `{"expiration_duration_seconds": ` + strconv.FormatInt(secs, 10) + `}`
}

// setWorkHeaders sets on one try of a call that starts work at fal (a
// queue submit, a synchronous or streaming run) what fal honours there: how
// long fal keeps the media (MediaTTL), the queue priority carried by ctx,
// and the time left before ctx's deadline as the longest fal may keep the
// job waiting to start, so that a job that never started is dropped, not
// billed. It runs per try, after any wait for a key, so the time left is
// current.
func (c *Client) setWorkHeaders(ctx context.Context, h http.Header) {
	if c.lifecycle != "" {
		h.Set(headerLifecycle, c.lifecycle)
	}
	if p, _ := ctx.Value(priorityKey{}).(string); p != "" {
		h.Set(headerPriority, p)
	}
	if deadline, ok := ctx.Deadline(); ok {
		secs := max(int64(time.Until(deadline)/time.Second), 1)
		h.Set(headerRequestTimeout, strconv.FormatInt(secs, 10))
	}
}
