package fal

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// How the cancel of an abandoned job ended, as reported to
// Observer.CancelSettled.
const (
	CancelConfirmed       = "confirmed"        // fal accepted the cancel
	CancelAlreadyFinished = "already_finished" // the job had completed; nothing to stop
	CancelUnknownJob      = "unknown_job"      // fal knows no such job (404): nothing runs under its id
	CancelGaveUp          = "gave_up"          // no try succeeded within CancelRetryFor, or fal refused the key
)

// Backoff between cancel tries: capped exponential with jitter.
const (
	cancelBackoffFirst = 250 * time.Millisecond
	cancelBackoffMax   = 10 * time.Second
)

// cancelOnce makes one cancel call. It returns the outcome when the call
// settled the matter, or the error and whether another try may succeed
// (cancelling is idempotent, so a transport error, 429 or 5xx is worth
// retrying; 401 or 403 is not).
func (c *Client) cancelOnce(ctx context.Context, j *Job) (outcome string, err error, retry bool) {
	req, err := c.newRequest(ctx, http.MethodPut, j.CancelURL, j.key, nil)
	if err != nil {
		return "", err, false
	}
	resp, err := c.send(req)
	if err != nil {
		return "", &Error{Op: OpCancel, Err: err}, true
	}
	defer resp.Body.Close()
	b, _ := readAll(OpCancel, resp.Body, 64<<10)
	switch {
	case resp.StatusCode/100 == 2:
		return CancelConfirmed, nil, false
	case resp.StatusCode == http.StatusBadRequest:
		// 400 ALREADY_COMPLETED: there is nothing left to stop.
		return CancelAlreadyFinished, nil, false
	case resp.StatusCode == http.StatusNotFound:
		return CancelUnknownJob, nil, false
	}
	retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	return "", errorFromResponse(OpCancel, resp, b), retry
}

// abandon cancels a job its caller no longer waits for. The cancel runs in
// the background, so that the caller's answer is not held up, and is
// retried until fal confirms it or the job is known to have finished, for
// at most CancelRetryFor: a job left running is billed. Close waits for
// these. Once Close has begun, the caller makes the tries itself.
func (c *Client) abandon(j *Job, why error) {
	c.bgMu.Lock()
	closing := c.closing
	if !closing {
		c.background.Add(1)
	}
	c.bgMu.Unlock()
	if closing {
		c.settleCancel(j, why)
		return
	}
	go func() {
		defer c.background.Done()
		c.settleCancel(j, why)
	}()
}

// settleCancel tries to cancel j until the matter is settled, and reports
// how it ended. The first try is always made; retries stop when
// CancelRetryFor has passed or Close gives up waiting.
func (c *Client) settleCancel(j *Job, why error) {
	ctx, cancel := context.WithTimeout(c.retries, c.opt.CancelRetryFor)
	defer cancel()
	for attempt := 0; ; attempt++ {
		parent := ctx
		if attempt == 0 {
			parent = context.WithoutCancel(ctx) // the first try is always made
		}
		tryCtx, endTry := context.WithTimeout(parent, c.opt.CancelTimeout)
		outcome, err, retry := c.cancelOnce(tryCtx, j)
		if outcome == "" && retry && c.finished(tryCtx, j) {
			outcome = CancelAlreadyFinished
		}
		endTry()
		if outcome != "" {
			c.opt.Observer.CancelSettled(outcome, attempt)
			j.cancelSettled(outcome)
			if outcome == CancelAlreadyFinished {
				c.settleLate(ctx, j)
			}
			c.log.Info("cancelled abandoned fal job", "request_id", j.RequestID, "outcome", outcome, "retries", attempt, "reason", why)
			return
		}
		if !retry || !c.cancelBackoff(ctx, attempt) {
			c.opt.Observer.CancelSettled(CancelGaveUp, attempt)
			j.cancelSettled(CancelGaveUp)
			c.log.Warn("cancelling abandoned fal job failed; it may run to the end and be billed",
				"request_id", j.RequestID, "retries", attempt, "err", err)
			return
		}
	}
}

// cancelSettled tells the job's OnCancelSettled how its cancel ended.
func (j *Job) cancelSettled(outcome string) {
	if j.OnCancelSettled != nil {
		j.OnCancelSettled(outcome)
	}
}

// finished reports whether fal says the job has completed, in which case
// there is nothing left to cancel.
func (c *Client) finished(ctx context.Context, j *Job) bool {
	st, err := c.status(ctx, j)
	return err == nil && st.Completed()
}

// cancelBackoff sleeps before the next cancel try; false if ctx ended.
func (c *Client) cancelBackoff(ctx context.Context, attempt int) bool {
	d := min(cancelBackoffFirst<<min(attempt, 8), cancelBackoffMax)
	return sleep(ctx, d/2+rand.N(d/2+1))
}

// Close waits, until ctx ends, for the cancels of abandoned jobs to
// settle; then it stops their retries and waits for the tries under way.
// Call it once no more calls are being made, before the process exits.
func (c *Client) Close(ctx context.Context) error {
	c.bgMu.Lock()
	c.closing = true
	c.bgMu.Unlock()
	done := make(chan struct{})
	go func() {
		c.background.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		c.stopRetries()
		<-done
		return errors.Join(errors.New("fal: some cancels of abandoned jobs were cut short"), ctx.Err())
	}
}
