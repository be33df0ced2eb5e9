package falfake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHTTPFaults(t *testing.T) {
	tests := []struct {
		name    string
		fault   Fault
		op      string // "submit", "status", "run" or "schema"
		key     string
		status  int
		body    string
		headers map[string]string
	}{
		{"429 once", Fault{Op: OpSubmit, Status: 429, RetryAfter: "2", Times: 1}, "submit", testKey, 429,
			`{"detail":"Concurrent requests limit reached","error_type":"concurrent_requests_limit"}`,
			map[string]string{"X-Fal-Needs-Retry": "1", "Retry-After": "2"}},
		{"401 for one key", Fault{Key: "k2", Status: 401}, "submit", "k2", 401, `{"detail":"No user found for Key ID and Secret"}`, nil},
		{"403 locked", Fault{Endpoint: "fal-ai/flux/dev", Status: 403}, "submit", testKey, 403,
			`{"detail":"User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing"}`, nil},
		{"500 on status", Fault{Op: OpStatus, Status: 500}, "status", testKey, 500,
			`{"detail":"Internal error","error_type":"internal_error"}`, map[string]string{"X-Fal-Error-Type": "internal_error"}},
		{"503 on run", Fault{Op: OpRun, Status: 503}, "run", testKey, 503,
			`{"detail":"Could not schedule a runner","error_type":"runner_scheduling_failure"}`, nil},
		{"custom body", Fault{Op: OpSchema, Status: 502, Body: `upstream sad`}, "schema", testKey, 502, `upstream sad`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := start(t, Options{})
			sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
			f.Inject(tt.fault)
			send := func() resp {
				cl := c.withKey(tt.key)
				switch tt.op {
				case "status":
					return cl.do("GET", str(sub, "status_url"), nil)
				case "run":
					return cl.do("POST", f.RunURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x"})
				case "schema":
					return cl.do("GET", f.OpenAPIURL()+"?endpoint_id=fal-ai/flux/dev", nil)
				}
				return cl.do("POST", f.QueueURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x"})
			}
			r := send()
			if r.status != tt.status || string(r.body) != tt.body {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tt.status, tt.body)
			}
			for k, v := range tt.headers {
				if r.header.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, r.header.Get(k), v)
				}
			}
			if tt.status >= 500 && r.header.Get("X-Fal-Request-Id") == "" {
				t.Error("5xx without x-fal-request-id")
			}
			if tt.op == "status" && r.header.Get("X-Fal-Request-Id") != str(sub, "request_id") {
				t.Errorf("status fault names request %q", r.header.Get("X-Fal-Request-Id"))
			}
			second := send()
			if tt.fault.Times == 1 && second.status >= 400 {
				t.Errorf("fault fired twice: %d", second.status)
			}
			if tt.fault.Times == 0 && second.status != tt.status {
				t.Errorf("forever fault stopped: %d", second.status)
			}
			// Requests the rule does not match are untouched.
			if other := c.withKey(testKey).do("POST", f.QueueURL()+"/fal-ai/flux/schnell", map[string]any{"prompt": "x"}); tt.op == "submit" && tt.fault.Times == 0 && other.status != 200 {
				t.Errorf("unmatched request: %d %s", other.status, other.body)
			}
			f.ClearFaults()
			if r := send(); r.status >= 400 {
				t.Errorf("after ClearFaults: %d %s", r.status, r.body)
			}
		})
	}
}

func TestFaultCountsAndRejected(t *testing.T) {
	f, c := start(t, Options{})
	f.Inject(Fault{Op: OpSubmit, Status: 401, Times: 2})
	for range 3 {
		c.do("POST", f.QueueURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x"})
	}
	got := f.Counts()
	if got.Submits != 3 || got.Faults != 2 || got.Rejected != 2 {
		t.Errorf("counts %+v", got)
	}
	if n := len(f.Jobs()); n != 1 {
		t.Errorf("%d jobs", n)
	}
}

func TestDropFault(t *testing.T) {
	f, c := start(t, Options{})
	f.Inject(Fault{Op: OpRun, Drop: true, Times: 1})
	if r, err := c.try("POST", f.RunURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x"}); err == nil {
		t.Fatalf("dropped request answered %d %s", r.status, r.body)
	}
	if r := c.do("POST", f.RunURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x"}); r.status != 200 {
		t.Errorf("after the drop: %d %s", r.status, r.body)
	}
	if got := f.Counts().SyncRuns; got != 2 {
		t.Errorf("SyncRuns = %d, want 2", got)
	}
}

func TestDelayFault(t *testing.T) {
	f, c := start(t, Options{})
	sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	// A pure delay still answers normally.
	f.Inject(Fault{Op: OpResult, Delay: 10 * time.Millisecond, Times: 1})
	if r := c.do("GET", str(sub, "response_url"), nil); r.status != 200 {
		t.Errorf("delayed result: %d %s", r.status, r.body)
	}
	// A client that gives up ends the delayed request early.
	f.Inject(Fault{Op: OpResult, Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := c.request("GET", str(sub, "response_url"), nil)
	done := make(chan error, 1)
	go func() {
		res, err := c.hc.Do(req.WithContext(ctx))
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	for f.Counts().Results < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("want context.Canceled, got %v", err)
	}
}

func TestJobFaults(t *testing.T) {
	f, c := start(t, Options{})
	f.Inject(Fault{JobError: "runner_scheduling_failure", Endpoint: "fal-ai/flux/dev", Times: 1})
	failed := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	fine := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	st := c.do("GET", str(failed, "status_url"), nil).json(t)
	if str(st, "status") != StateCompleted || str(st, "error_type") != "runner_scheduling_failure" || str(st, "error") == "" {
		t.Errorf("failed job status %v", st)
	}
	r := c.do("GET", str(failed, "response_url"), nil)
	if r.status != 503 || r.header.Get("X-Fal-Error-Type") != "runner_scheduling_failure" {
		t.Errorf("failed job result %d %s", r.status, r.body)
	}
	if r := c.do("GET", str(fine, "response_url"), nil); r.status != 200 {
		t.Errorf("second job %d %s", r.status, r.body)
	}

	f.Inject(Fault{JobError: "content_policy_violation", Op: OpRun, Times: 1})
	r = c.do("POST", f.RunURL()+"/fal-ai/flux/dev", map[string]any{"prompt": "x"})
	if r.status != 422 || !strings.Contains(string(r.body), `"type":"content_policy_violation"`) {
		t.Errorf("sync job fault: %d %s", r.status, r.body)
	}

	f.Inject(Fault{JobError: "request_timeout", Status: 500, Body: `{"detail":"custom"}`, Times: 1})
	sub := c.submit(f, "fal-ai/flux/dev", map[string]any{"prompt": "x"})
	r = c.do("GET", str(sub, "response_url"), nil)
	if r.status != 500 || string(r.body) != `{"detail":"custom"}` {
		t.Errorf("overridden job fault: %d %s", r.status, r.body)
	}
	jobs := f.Jobs()
	if jobs[0].ErrorType != "runner_scheduling_failure" || jobs[0].ResultStatus != 503 || jobs[1].ErrorType != "" || jobs[2].ResultStatus != 500 {
		t.Errorf("jobs %+v", jobs)
	}
	// Job faults never answer HTTP requests themselves.
	if got := f.Counts().Faults; got != 0 {
		t.Errorf("Faults = %d", got)
	}
	if r := c.do("GET", f.OpenAPIURL()+"?endpoint_id=fal-ai/flux/dev", nil); r.status != http.StatusOK {
		t.Errorf("schema after job faults: %d", r.status)
	}
}
