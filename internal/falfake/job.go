package falfake

import (
	"encoding/json"
	"sync"
	"time"
)

// Queue states, as fal reports them. A failed or cancelled job is
// COMPLETED with an error, as on fal: there is no FAILED state.
const (
	StateInQueue    = "IN_QUEUE"
	StateInProgress = "IN_PROGRESS"
	StateCompleted  = "COMPLETED"
)

// Job is a snapshot of one queued request.
type Job struct {
	ID        string
	Endpoint  string
	Key       string
	Input     json.RawMessage // the submitted body, as received
	State     string          // StateInQueue, StateInProgress or StateCompleted
	Cancelled bool
	// ErrorType is fal's error_type for a failed job (runner_disconnected,
	// client_cancelled, content_policy_violation, ...); for an input that
	// failed validation it is the first error's Pydantic type, e.g.
	// extra_forbidden. Empty while running and on success.
	ErrorType string
	// ResultStatus is the HTTP status the result answers; 0 until done.
	ResultStatus int
	Submitted    time.Time
}

// job is a queued request. Its state is a function of time: IN_QUEUE until
// started, IN_PROGRESS until finished, then COMPLETED; a cancel ends it
// early. No goroutine runs per job, so thousands of jobs cost only memory
// for their input and, once read, their output.
type job struct {
	id        string
	endpoint  string
	key       string
	queueBase string // http://host/queue as the client addressed it
	exec      execution
	submitted time.Time
	started   time.Time
	finished  time.Time
	changed   chan struct{} // closed on cancel, to wake status streams

	mu          sync.Mutex
	cancelled   bool
	cancelledAt time.Time
	out         *outcome // set once completed and read, or on cancel
}

// phaseLocked is the job's state at now; j.mu must be held.
func (j *job) phaseLocked(now time.Time) string {
	switch {
	case j.cancelled:
		return StateCompleted
	case now.Before(j.started):
		return StateInQueue
	case now.Before(j.finished):
		return StateInProgress
	}
	return StateCompleted
}

// phase is the job's state now and when it next changes by itself (zero
// once completed).
func (j *job) phase() (state string, next time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	state = j.phaseLocked(time.Now())
	switch state {
	case StateInQueue:
		next = j.started
	case StateInProgress:
		next = j.finished
	}
	return state, next
}

// inferenceTime is how long the job ran, in seconds, and whether it ran at
// all; j.mu must be held.
func (j *job) inferenceTimeLocked() (float64, bool) {
	end := j.finished
	if j.cancelled {
		if !j.cancelledAt.After(j.started) {
			return 0, false
		}
		end = j.cancelledAt
	}
	return end.Sub(j.started).Seconds(), true
}

// cancel stops a job that has not completed. It reports false when the job
// had already completed.
func (j *job) cancel() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := time.Now()
	if j.phaseLocked(now) == StateCompleted {
		return false
	}
	j.cancelled = true
	j.cancelledAt = now
	out := errorOutcome("client_cancelled", nil)
	j.out = &out
	close(j.changed)
	return true
}

// outcome is the job's result, computed on first read after completion:
// that is when the emulator "processes" the input, as fal validates it on
// the runner. ok is false while the job has not completed.
func (f *Fake) outcome(j *job) (out outcome, ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.phaseLocked(time.Now()) != StateCompleted {
		return outcome{}, false
	}
	if j.out == nil {
		o := f.execute(j.exec)
		j.out = &o
		f.charge(j.key, j.endpoint, j.exec.body, o)
	}
	return *j.out, true
}

// jobStore indexes jobs by request id and keeps submission order.
type jobStore struct {
	mu    sync.RWMutex
	byID  map[string]*job
	order []*job
}

func (s *jobStore) init() { s.byID = map[string]*job{} }

func (s *jobStore) add(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[j.id] = j
	s.order = append(s.order, j)
}

func (s *jobStore) get(id string) *job {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byID[id]
}

func (s *jobStore) all() []*job {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*job(nil), s.order...)
}

func (s *jobStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID = map[string]*job{}
	s.order = nil
}

// Jobs returns a snapshot of every queued job since New or Reset, in
// submission order.
func (f *Fake) Jobs() []Job {
	jobs := f.jobs.all()
	out := make([]Job, 0, len(jobs))
	for _, j := range jobs {
		state, _ := j.phase()
		snap := Job{
			ID:        j.id,
			Endpoint:  j.endpoint,
			Key:       j.key,
			Input:     json.RawMessage(j.exec.body),
			State:     state,
			Submitted: j.submitted,
		}
		j.mu.Lock()
		snap.Cancelled = j.cancelled
		j.mu.Unlock()
		if o, ok := f.outcome(j); ok {
			snap.ErrorType = o.errorType
			snap.ResultStatus = o.status
		}
		out = append(out, snap)
	}
	return out
}
