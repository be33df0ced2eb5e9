package falfake

import (
	"net/http"
	"strings"
	"time"
)

// submitted is the answer to a queue submit.
type submitted struct {
	RequestID     string `json:"request_id"`
	ResponseURL   string `json:"response_url"`
	StatusURL     string `json:"status_url"`
	CancelURL     string `json:"cancel_url"`
	QueuePosition int    `json:"queue_position"`
	Status        string `json:"status"`
}

// statusBody is a queue status, with the fields fal's clients require for
// each state.
type statusBody struct {
	Status        string         `json:"status"`
	RequestID     string         `json:"request_id"`
	ResponseURL   string         `json:"response_url"`
	StatusURL     string         `json:"status_url"`
	CancelURL     string         `json:"cancel_url"`
	QueuePosition *int           `json:"queue_position,omitempty"`
	Logs          *[]logEntry    `json:"logs,omitempty"`
	Metrics       *statusMetrics `json:"metrics,omitempty"`
	Error         string         `json:"error,omitempty"`
	ErrorType     string         `json:"error_type,omitempty"`
}

type statusMetrics struct {
	InferenceTime *float64 `json:"inference_time,omitempty"`
}

// logEntry is one log line of a run.
type logEntry struct {
	Message   string `json:"message"`
	Level     string `json:"level"`
	Source    string `json:"source"`
	Timestamp string `json:"timestamp"`
}

// notFoundApp is fal's 404 for an endpoint it does not serve; it names the
// app only.
func notFoundApp(w http.ResponseWriter, endpoint string) {
	writeJSON(w, http.StatusNotFound, detailMsg(`Application "`+appName(endpoint)+`" not found`))
}

// submit queues a job. Its input is not looked at until the job is
// processed, as on fal.
func (f *Fake) submit(w http.ResponseWriter, c *call) {
	m, gen, ok := f.accept(w, c)
	if !ok {
		return
	}
	now := time.Now()
	j := &job{
		id:        c.rid,
		endpoint:  c.endpoint,
		key:       c.key,
		queueBase: f.answerBase(c) + "/queue",
		exec:      execution{model: m, body: c.body, cdnBase: c.base, inference: gen},
		submitted: now,
		started:   now.Add(f.opts.QueueDelay),
		changed:   make(chan struct{}),
	}
	j.finished = j.started.Add(gen)
	if ft, ok := f.faults.takeJob(OpSubmit, c.key, c.endpoint); ok {
		j.exec.fault = &ft
	}
	f.jobs.add(j)
	resp, status, cancel := j.urls()
	w.Header().Set("X-Fal-Request-Id", j.id)
	writeJSON(w, http.StatusOK, submitted{
		RequestID: j.id, ResponseURL: resp, StatusURL: status, CancelURL: cancel,
		QueuePosition: 0, Status: StateInQueue,
	})
}

// answerBase is the base of the URLs an answer names for the client to
// call next: the address the client used, unless Options.AnswerURLBase.
func (f *Fake) answerBase(c *call) string {
	if f.opts.AnswerURLBase != "" {
		return strings.TrimRight(f.opts.AnswerURLBase, "/")
	}
	return c.base
}

// urls are the job's app-only result, status and cancel URLs.
func (j *job) urls() (response, status, cancel string) {
	app, _ := splitEndpoint(j.endpoint)
	response = j.queueBase + "/" + app + "/requests/" + j.id
	return response, response + "/status", response + "/cancel"
}

// jobFor checks the key and finds the job a queue path names. As on fal,
// the path names the app id ([namespace/]owner/app), never the full
// endpoint id of a model with a sub-path. It answers 401 or 404 itself and
// then returns false.
func (f *Fake) jobFor(w http.ResponseWriter, c *call) (*job, bool) {
	if !f.authorize(w, c) {
		return nil, false
	}
	rp, _ := parseRequestPath(c.r.PathValue("rest"))
	j := f.jobs.get(rp.id)
	if j != nil {
		if app, _ := splitEndpoint(j.endpoint); rp.prefix == app {
			return j, true
		}
	}
	writeBody(w, http.StatusNotFound, "application/json", []byte(notFoundBody))
	return nil, false
}

// logsWanted reads ?logs=, which clients spell 1/0 or true/false.
func logsWanted(r *http.Request) bool {
	v := strings.ToLower(r.URL.Query().Get("logs"))
	return v == "1" || v == "true"
}

// status answers a poll: 202 while queued or running, 200 once completed.
func (f *Fake) status(w http.ResponseWriter, c *call) {
	j, ok := f.jobFor(w, c)
	if !ok {
		return
	}
	v := f.statusView(j, logsWanted(c.r))
	code := http.StatusAccepted
	if v.Status == StateCompleted {
		code = http.StatusOK
	}
	writeJSON(w, code, v)
}

// statusView is the job's current status body.
func (f *Fake) statusView(j *job, withLogs bool) statusBody {
	state, _ := j.phase()
	resp, status, cancel := j.urls()
	v := statusBody{Status: state, RequestID: j.id, ResponseURL: resp, StatusURL: status, CancelURL: cancel}
	switch state {
	case StateInQueue:
		v.QueuePosition = new(0)
	case StateInProgress:
		v.Logs = j.logs(withLogs, false)
		if withLogs && j.exec.model.kind == kindVideo {
			*v.Logs = append(*v.Logs, j.progressLog(time.Now()))
		}
	case StateCompleted:
		out, _ := f.outcome(j)
		v.Logs = j.logs(withLogs, true)
		v.Metrics = &statusMetrics{}
		j.mu.Lock()
		if secs, ran := j.inferenceTimeLocked(); ran {
			v.Metrics.InferenceTime = &secs
		}
		j.mu.Unlock()
		if out.request {
			v.Error, v.ErrorType = out.msg, out.errorType
		}
	}
	return v
}

// logs are the job's log lines: none unless asked for, but always a list,
// which fal's Python client requires.
func (j *job) logs(withLogs, done bool) *[]logEntry {
	entries := []logEntry{}
	if withLogs {
		entries = append(entries, logEntry{"Processing request", "INFO", "USER", j.started.UTC().Format(time.RFC3339Nano)})
		if done {
			entries = append(entries, logEntry{"Request finished", "INFO", "USER", j.finished.UTC().Format(time.RFC3339Nano)})
		}
	}
	return &entries
}

// statusStream sends the status as server-sent events: at once, on every
// change, and the COMPLETED event last, with ": ping" comments every
// KeepAlive in between. It ends when the client leaves or the emulator
// closes.
func (f *Fake) statusStream(w http.ResponseWriter, c *call) {
	j, ok := f.jobFor(w, c)
	if !ok {
		return
	}
	withLogs := logsWanted(c.r)
	s := startSSE(w, j.id)
	ping := time.NewTicker(f.opts.KeepAlive)
	defer ping.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	last := ""
	for {
		v := f.statusView(j, withLogs)
		if v.Status != last {
			if s.data(mustJSON(v)) != nil {
				return
			}
			last = v.Status
		}
		if v.Status == StateCompleted {
			return
		}
		_, next := j.phase()
		wake.Reset(max(0, time.Until(next)))
		select {
		case <-c.r.Context().Done():
			return
		case <-j.changed:
		case <-wake.C:
		case <-ping.C:
			if s.comment("ping") != nil {
				return
			}
		}
	}
}

// result answers the job's output, its error, or 400 while it runs.
func (f *Fake) result(w http.ResponseWriter, c *call) {
	j, ok := f.jobFor(w, c)
	if !ok {
		return
	}
	out, done := f.outcome(j)
	if !done {
		writeJSON(w, http.StatusBadRequest, detailMsg("Request is still in progress"))
		return
	}
	out.write(w, j.id)
}

// cancelJob stops a queued or running job; it then completes with
// client_cancelled.
func (f *Fake) cancelJob(w http.ResponseWriter, c *call) {
	j, ok := f.jobFor(w, c)
	if !ok {
		return
	}
	if !j.cancel() {
		writeJSON(w, http.StatusBadRequest, map[string]string{"status": "ALREADY_COMPLETED"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "CANCELLATION_REQUESTED"})
}
