package fal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Job is a request fal accepted on its queue. It keeps the key it was
// submitted with for its whole life: status, result and cancel must use it,
// and it must never be submitted again.
type Job struct {
	RequestID   string `json:"request_id"`
	StatusURL   string `json:"status_url"`
	ResponseURL string `json:"response_url"`
	CancelURL   string `json:"cancel_url"`
	Endpoint    string `json:"-"`
	// OnCancelSettled, when set, hears how a cancel of the job ended (one
	// of the Cancel* outcomes), in the background: whether fal stopped
	// the job before it completed, and so does not bill it.
	OnCancelSettled func(outcome string) `json:"-"`
	// billedLate hears the result of a job Run abandoned that fal
	// completed before the cancel arrived (see WithBilledLate).
	billedLate func(requestID string, result []byte)

	key  *Key
	pool *Pool
	done bool

	accepted, started time.Time // when fal accepted it; when a runner took it
}

// KeyID names the key the job runs under.
func (j *Job) KeyID() string { return j.key.ID() }

// Release gives the job's key slot back; call once when done with the job.
func (j *Job) Release() {
	if !j.done {
		j.done = true
		j.pool.release(j.key)
	}
}

// Status is a queue status object.
type Status struct {
	Status        string `json:"status"` // IN_QUEUE, IN_PROGRESS, COMPLETED
	RequestID     string `json:"request_id"`
	QueuePosition *int   `json:"queue_position,omitempty"`
	Error         string `json:"error,omitempty"`
	ErrorType     string `json:"error_type,omitempty"`
	Metrics       struct {
		InferenceTime float64 `json:"inference_time"`
	} `json:"metrics"`
}

// Completed reports whether the job has ended (successfully or not).
func (s *Status) Completed() bool { return s.Status == "COMPLETED" }

// Submit puts input on fal's queue for endpoint. Failures before fal
// accepts the job fail over to the next key; once accepted, the job is
// never submitted again.
func (c *Client) Submit(ctx context.Context, endpoint string, input []byte) (*Job, error) {
	u := c.opt.QueueURL + "/" + endpoint
	t0 := time.Now()
	resp, k, err := c.postFailover(ctx, OpSubmit, u, input, nil, true)
	if err != nil {
		return nil, err
	}
	return c.acceptedJob(endpoint, resp, k, t0)
}

// acceptedJob reads the job fal accepted from its submit answer, made with
// key k. It is apart from Submit so that its locals are not on the stack
// while a submit is under way, the deepest a request's stack goes.
func (c *Client) acceptedJob(endpoint string, resp *http.Response, k *Key, t0 time.Time) (*Job, error) {
	defer resp.Body.Close()
	job := &Job{Endpoint: endpoint, key: k, pool: c.opt.Pool}
	b, err := readResponse(OpSubmit, resp, 1<<20)
	if err == nil {
		err = decodeJob(b, job)
	}
	if err == nil && job.RequestID == "" {
		err = errors.New("no request_id in fal's answer")
	}
	if err != nil {
		// fal answered 2xx, so a job may well exist, but without its ids
		// it can neither be followed nor cancelled. Report, never resubmit.
		job.Release()
		return nil, &Error{Op: OpSubmit, Status: resp.StatusCode, Err: fmt.Errorf("unreadable submit answer: %w", err)}
	}
	c.fillURLs(job)
	job.accepted = time.Now()
	c.opt.Observer.Phase(endpoint, "submit", job.accepted.Sub(t0))
	return job, nil
}

// fillURLs builds any URL fal left out, or named on a host that is not
// fal's (the key must not follow it there), from the app part of the
// endpoint id, as the official clients do.
func (c *Client) fillURLs(j *Job) {
	foreign := false
	for _, u := range []*string{&j.ResponseURL, &j.StatusURL, &j.CancelURL} {
		if *u != "" && !c.followable(*u) {
			*u, foreign = "", true
		}
	}
	if foreign {
		c.log.Warn("fal's submit answer names URLs outside fal's hosts; using the queue URL instead", "request_id", j.RequestID)
	}
	if j.ResponseURL != "" && j.StatusURL != "" && j.CancelURL != "" {
		return
	}
	base := c.opt.QueueURL + "/" + appID(j.Endpoint) + "/requests/" + url.PathEscape(j.RequestID)
	if j.ResponseURL == "" {
		j.ResponseURL = base
	}
	if j.StatusURL == "" {
		j.StatusURL = base + "/status"
	}
	if j.CancelURL == "" {
		j.CancelURL = base + "/cancel"
	}
}

// appID is "owner/app" of an endpoint id ("namespace/owner/app" for the
// workflows and comfy namespaces).
func appID(endpoint string) string {
	parts := strings.Split(endpoint, "/")
	n := 2
	if len(parts) > 0 && (parts[0] == "workflows" || parts[0] == "comfy") {
		n = 3
	}
	if len(parts) < n {
		return endpoint
	}
	return strings.Join(parts[:n], "/")
}

// Wait blocks until the job completes and returns its final status. It
// follows fal's status stream, which reports completion the moment it
// happens at the cost of one request; if the stream cannot be opened or
// breaks, it polls status with a short, growing interval.
func (c *Client) Wait(ctx context.Context, j *Job) (*Status, error) {
	st, err := c.followStream(ctx, j)
	if err == nil && st.Completed() {
		return st, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return c.pollAfterStream(ctx, j, err)
}

// pollAfterStream polls the job's status once its stream has ended early
// (err) or without COMPLETED. It is apart from Wait so that its locals are
// not on the stack while the stream is followed.
func (c *Client) pollAfterStream(ctx context.Context, j *Job, err error) (*Status, error) {
	if err != nil {
		c.log.Debug("status stream unavailable, polling", "request_id", j.RequestID, "err", err)
	}
	return c.poll(ctx, j)
}

// followStream reads the status stream until COMPLETED. It returns the last
// status seen and a non-nil error if the stream ended early.
func (c *Client) followStream(ctx context.Context, j *Job) (*Status, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A stalled stream (no answer, no event, not even a keep-alive, for
	// StreamIdle) is cut so that polling can take over.
	idle := time.AfterFunc(c.opt.StreamIdle, cancel)
	defer idle.Stop()
	resp, err := c.openStatusStream(ctx, j)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return readStatusStream(j, resp.Body, idle, c.opt.StreamIdle)
}

// openStatusStream asks fal for the job's status stream. It is apart from
// followStream, as readStatusStream is, so that only small frames are on
// the stack while a request waits on the stream for seconds.
func (c *Client) openStatusStream(ctx context.Context, j *Job) (*http.Response, error) {
	req, err := c.newRequest(ctx, http.MethodGet, j.StatusURL+"/stream?logs=0", j.key, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.send(req)
	if err != nil {
		return nil, &Error{Op: OpStatus, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, refusedStream(resp)
	}
	return resp, nil
}

// refusedStream reads fal's answer refusing a status stream.
func refusedStream(resp *http.Response) *Error {
	defer resp.Body.Close()
	b, _ := readAll(OpStatus, resp.Body, 64<<10)
	return errorFromResponse(OpStatus, resp, b)
}

// readStatusStream reads status events until COMPLETED, pushing the idle
// timer back by idleFor at each event (keep-alives included).
func readStatusStream(j *Job, body io.Reader, idle *time.Timer, idleFor time.Duration) (*Status, error) {
	rd := newSSEReaderSize(body, statusBufferSize, 1<<20)
	var last, st Status // st is decoded into afresh for each event
	for {
		ev, err := rd.Next()
		if err != nil {
			return &last, statusStreamError("status stream ended early", err)
		}
		idle.Reset(idleFor)
		if ev.Comment || len(ev.Data) == 0 {
			continue
		}
		st = Status{}
		if err := decodeStatus(ev.Data, &st); err != nil {
			return &last, statusStreamError("malformed status event", err)
		}
		last = st
		if st.Status == "IN_PROGRESS" && j.started.IsZero() {
			j.started = time.Now()
		}
		if st.Completed() {
			return &last, nil
		}
	}
}

// statusStreamError is the error of a status stream that ended without
// COMPLETED.
func statusStreamError(what string, err error) *Error {
	return &Error{Op: OpStatus, Err: fmt.Errorf("%s: %w", what, err)}
}

// poll asks for the status until COMPLETED, with capped growing intervals.
func (c *Client) poll(ctx context.Context, j *Job) (*Status, error) {
	interval := c.opt.PollInterval
	failures := 0
	for {
		st, err := c.status(ctx, j)
		switch {
		case err == nil && st.Completed():
			return st, nil
		case err == nil:
			failures = 0 // only failures in a row end the wait
		case err != nil:
			var fe *Error
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.As(err, &fe) && fe.Status >= 400 && fe.Status < 500 && fe.Status != http.StatusTooManyRequests {
				return nil, err // 401, 404: asking again will not help
			}
			if failures++; failures > 8 {
				return nil, err
			}
		}
		if !sleep(ctx, interval) {
			return nil, ctx.Err()
		}
		interval = min(interval*2, time.Second)
	}
}

func (c *Client) status(ctx context.Context, j *Job) (*Status, error) {
	var st Status
	if err := c.readStatus(ctx, j, "0", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// readStatus asks for the job's status once, with logs "1" or "0", and
// decodes it into v.
func (c *Client) readStatus(ctx context.Context, j *Job, logs string, v any) error {
	req, err := c.newRequest(ctx, http.MethodGet, j.StatusURL+"?logs="+logs, j.key, nil)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return &Error{Op: OpStatus, Err: err}
	}
	defer resp.Body.Close()
	b, err := readAll(OpStatus, resp.Body, 1<<20)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return errorFromResponse(OpStatus, resp, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &Error{Op: OpStatus, Status: resp.StatusCode, Err: fmt.Errorf("malformed status: %w", err)}
	}
	return nil
}

// Result fetches a completed job's output. A job that failed at fal gives
// an *Error with JobFailed set and fal's status and message (422 detail for
// invalid input, the error type for infrastructure failures). The
// returned bytes belong to the caller and are never reused by the Client
// (see readResponse).
func (c *Client) Result(ctx context.Context, j *Job) ([]byte, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		body, err, retry := c.resultOnce(ctx, j)
		if !retry {
			return body, err
		}
		lastErr = err
		if !c.backoff(ctx, attempt) {
			return nil, ctx.Err()
		}
	}
	return nil, lastErr
}

// resultOnce makes one result call; retry says whether another may help
// (reading a result is idempotent, so transport errors and 5xx answers
// that are not the job's own failure are retried).
func (c *Client) resultOnce(ctx context.Context, j *Job) ([]byte, error, bool) {
	req, err := c.newRequest(ctx, http.MethodGet, j.ResponseURL, j.key, nil)
	if err != nil {
		return nil, err, false
	}
	resp, err := c.send(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err(), false
		}
		return nil, &Error{Op: OpResult, Err: err}, true
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		b, err := readResponse(OpResult, resp, c.opt.MaxResultBytes)
		return b, err, false
	}
	b, _ := readAll(OpResult, resp.Body, 64<<10)
	fe := errorFromResponse(OpResult, resp, b)
	jobError := fe.ErrorType != "" || resp.StatusCode == http.StatusUnprocessableEntity
	fe.JobFailed = jobError
	return nil, fe, !jobError && resp.StatusCode >= 500
}

// Outcome is a finished queue job.
type Outcome struct {
	RequestID string
	KeyID     string
	Body      []byte // the model's output JSON
	// Billed: the job completed without failing, so fal bills it, even
	// when reading its result then failed.
	Billed bool
}

// Run submits input, waits for completion and returns the output. If ctx
// ends (client gone, deadline passed) after fal accepted the job, the job
// is cancelled at fal so that it is not left running and billed.
func (c *Client) Run(ctx context.Context, endpoint string, input []byte) (*Outcome, error) {
	j, err := c.Submit(ctx, endpoint, input)
	if err != nil {
		return nil, err
	}
	defer j.Release()
	j.billedLate = billedLateOf(ctx)
	out := &Outcome{RequestID: j.RequestID, KeyID: j.key.ID()}
	st, err := c.Wait(ctx, j)
	if err != nil {
		c.abandon(j, err)
		return out, err
	}
	c.observeWait(j)
	// The job has completed: there is nothing left to cancel, whatever
	// happens to the result read.
	return out, c.readResult(ctx, j, st, out)
}

// readResult reads a completed job's result into out, with whether fal
// bills it. It is apart from Run so that its locals are not on the stack
// while Run submits the job.
func (c *Client) readResult(ctx context.Context, j *Job, st *Status, out *Outcome) error {
	t0 := time.Now()
	var err error
	out.Body, err = c.Result(ctx, j)
	c.opt.Observer.Phase(j.Endpoint, "result", time.Since(t0))
	var fe *Error
	if errors.As(err, &fe) && st.ErrorType != "" && fe.ErrorType == "" {
		fe.ErrorType = st.ErrorType
	}
	out.Billed = st.ErrorType == "" && (fe == nil || !fe.JobFailed)
	return err
}

// observeWait reports the queue and generation phases of a completed job.
// When no IN_PROGRESS status was seen, the whole wait counts as generation.
func (c *Client) observeWait(j *Job) {
	now := time.Now()
	if j.started.IsZero() {
		c.opt.Observer.Phase(j.Endpoint, "generation", now.Sub(j.accepted))
		return
	}
	c.opt.Observer.Phase(j.Endpoint, "queue", j.started.Sub(j.accepted))
	c.opt.Observer.Phase(j.Endpoint, "generation", now.Sub(j.started))
}
