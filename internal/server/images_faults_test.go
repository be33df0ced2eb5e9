package server_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

const genBody = `{"model":"flux-dev","prompt":"a cat"}`

func submitKeys(h *harness) []string {
	var keys []string
	for _, c := range h.fake.Received() {
		if c.Op == falfake.OpSubmit {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

func TestKeyFailoverAndQuarantine(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.falKeys = []string{"bad:key", "good:key"} })
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Key: "bad:key", Status: http.StatusUnauthorized})
	for i := range 3 {
		if code, _, body := h.post(context.Background(), "/v1/images/generations", genBody); code != http.StatusOK {
			t.Fatalf("request %d: status %d: %s", i, code, body)
		}
	}
	keys := submitKeys(h)
	bad := 0
	for _, k := range keys {
		if k == "bad:key" {
			bad++
		}
	}
	// The rejected key is tried at most once, then quarantined.
	if bad != 1 || len(keys) != 4 {
		t.Fatalf("submits by key: %v; want the bad key once, then only the good one", keys)
	}
	for _, j := range h.fake.Jobs() {
		if j.Key != "good:key" {
			t.Fatalf("a job ran under %s", j.Key)
		}
	}
	if n := len(h.fake.Jobs()); n != 3 {
		t.Fatalf("%d jobs for 3 requests: something was submitted twice", n)
	}
}

func TestAllKeysRateLimited(t *testing.T) {
	h := newHarness(t)
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Status: http.StatusTooManyRequests, RetryAfter: "7"})
	code, hdr, body := h.post(context.Background(), "/v1/images/generations", genBody)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", code, body)
	}
	if ra, _ := strconv.Atoi(hdr.Get("Retry-After")); ra < 1 || ra > 7 {
		t.Fatalf("Retry-After = %q, want fal's 7s or less", hdr.Get("Retry-After"))
	}
	decodeError(t, body)

	// Both keys now rest: the next request does not even reach fal.
	before := h.fake.Counts().Submits
	code, hdr, _ = h.post(context.Background(), "/v1/images/generations", genBody)
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || h.fake.Counts().Submits != before {
		t.Fatalf("status %d, Retry-After %q, submits %d→%d", code, hdr.Get("Retry-After"), before, h.fake.Counts().Submits)
	}
}

func TestAllKeysRejected(t *testing.T) {
	h := newHarness(t)
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Status: http.StatusForbidden})
	code, hdr, body := h.post(context.Background(), "/v1/images/generations", genBody)
	if code != http.StatusBadGateway || hdr.Get("X-Should-Retry") != "false" {
		t.Fatalf("status %d, x-should-retry %q: %s", code, hdr.Get("X-Should-Retry"), body)
	}
	if e := decodeError(t, body); deref(e.Code) != "fal_auth_failed" {
		t.Fatalf("code %q", deref(e.Code))
	}
	if n := h.fake.Counts().Submits; n != 2 {
		t.Fatalf("%d submits, want one per key", n)
	}
}

func TestTransientSubmitFailureIsRetried(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.falKeys = []string{"only:key"} })
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Status: http.StatusServiceUnavailable, Times: 1})
	if code, _, body := h.post(context.Background(), "/v1/images/generations", genBody); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if c := h.fake.Counts(); c.Submits != 2 || len(h.fake.Jobs()) != 1 {
		t.Fatalf("submits %d, jobs %d; want a retry and exactly one job", c.Submits, len(h.fake.Jobs()))
	}
}

func TestDroppedSubmitIsNotRepeated(t *testing.T) {
	h := newHarness(t)
	// The connection drops after fal read the body: a job may exist, so
	// falproxy must not submit it again under another key.
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Drop: true})
	code, _, body := h.post(context.Background(), "/v1/images/generations", genBody)
	if code != http.StatusBadGateway {
		t.Fatalf("status %d: %s", code, body)
	}
	if n := h.fake.Counts().Submits; n != 1 {
		t.Fatalf("%d submits after a dropped connection, want 1", n)
	}
}

func TestStatusStreamFallsBackToPolling(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = 300 * time.Millisecond })
	h.fake.Inject(falfake.Fault{Op: falfake.OpStream, Status: http.StatusInternalServerError})
	if code, _, body := h.post(context.Background(), "/v1/images/generations", genBody); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	c := h.fake.Counts()
	if c.StatusStreams != 1 || c.Status < 1 || c.Results != 1 {
		t.Fatalf("counts %+v; want a failed stream, then polls, then the result", c)
	}
}

func TestClientDisconnectCancelsJob(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = 30 * time.Second })
	cancel, done := h.postInBackground("/v1/images/generations", genBody)
	eventually(t, "fal has the job", func() bool { return len(h.fake.Jobs()) == 1 })
	cancel()
	<-done
	eventually(t, "the job is cancelled at fal", func() bool { return h.fake.Jobs()[0].Cancelled })
	if n := h.fake.Counts().Submits; n != 1 {
		t.Fatalf("%d submits", n)
	}
}

func TestRequestTimeoutCancelsJob(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.fake.GenerationTime = 30 * time.Second
		s.server.RequestTimeout = 300 * time.Millisecond
	})
	code, hdr, body := h.post(context.Background(), "/v1/images/generations", genBody)
	if code != http.StatusGatewayTimeout || hdr.Get("X-Should-Retry") != "false" {
		t.Fatalf("status %d: %s", code, body)
	}
	if e := decodeError(t, body); e.Type != "timeout_error" {
		t.Fatalf("type %q", e.Type)
	}
	eventually(t, "the job is cancelled at fal", func() bool {
		jobs := h.fake.Jobs()
		return len(jobs) == 1 && jobs[0].Cancelled
	})
}

func TestFailedSplitJobCancelsSiblings(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = 30 * time.Second })
	// n=8 on a model with at most 4 per job: two jobs. The first submit
	// succeeds; the second is refused, so the first must be cancelled.
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Status: http.StatusUnprocessableEntity, Body: `{"detail":[{"loc":["body","prompt"],"msg":"bad","type":"value_error"}]}`, Times: 1})
	code, _, body := h.post(context.Background(), "/v1/images/generations", `{"model":"flux-dev","prompt":"p","n":8}`)
	if code != http.StatusBadRequest {
		t.Fatalf("status %d: %s", code, body)
	}
	eventually(t, "the surviving job is cancelled", func() bool {
		jobs := h.fake.Jobs()
		return len(jobs) == 1 && jobs[0].Cancelled
	})
}

func TestUntrustedResults(t *testing.T) {
	h := newHarness(t)
	tests := []struct{ name, body string }{
		{"not json", `<html>oops</html>`},
		{"no image", `{"images":[],"seed":1}`},
		{"image without url", `{"images":[{"width":8}]}`},
		{"wrong shape", `{"images":"nope"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.fake.Reset()
			h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Body: tt.body})
			code, _, body := h.post(context.Background(), "/v1/images/generations", genBody)
			if code != http.StatusBadGateway {
				t.Fatalf("status %d: %s", code, body)
			}
			decodeError(t, body)
		})
	}
	// A data URI whose payload is not base64 must not reach a JSON string.
	h.fake.Reset()
	h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK,
		Body: `{"images":[{"url":"data:image/png;base64,AAAA\"}],\"x\":\"","width":8,"height":8}]}`})
	code, _, body := h.post(context.Background(), "/v1/images/generations", `{"model":"flux-dev","prompt":"p","response_format":"b64_json"}`)
	if code != http.StatusBadGateway {
		t.Fatalf("status %d: %s", code, body)
	}
}

// TestClientLeavesDuringSubmit: the client goes away while fal is still
// answering the submit. The submit is let through to learn the job's id,
// and the job is then cancelled rather than left running.
func TestClientLeavesDuringSubmit(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = 30 * time.Second })
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Delay: 400 * time.Millisecond})
	cancel, done := h.postInBackground("/v1/images/generations", genBody)
	eventually(t, "the submit reached fal", func() bool { return h.fake.Counts().Submits == 1 })
	cancel()
	<-done
	eventually(t, "the job is cancelled at fal", func() bool {
		jobs := h.fake.Jobs()
		return len(jobs) == 1 && jobs[0].Cancelled
	})
	if n := h.fake.Counts().Submits; n != 1 {
		t.Fatalf("%d submits", n)
	}
}
