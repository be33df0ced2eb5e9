package server_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestRejectedKeysFailAtOnce: once fal has rejected every key, later
// requests are told so at once, as a configuration problem not worth
// retrying, instead of being asked to wait out the keys' quarantine.
func TestRejectedKeysFailAtOnce(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.fake.Keys = []string{"another:key"} })
	for i := range 2 {
		submits := h.fake.Counts().Submits
		code, hdr, body := h.post(context.Background(), "/v1/images/generations", genBody)
		if code != http.StatusBadGateway || hdr.Get("X-Should-Retry") != "false" || hdr.Get("Retry-After") != "" {
			t.Fatalf("request %d: status %d, x-should-retry %q, retry-after %q: %s", i, code, hdr.Get("X-Should-Retry"), hdr.Get("Retry-After"), body)
		}
		e := decodeError(t, body)
		if deref(e.Code) != "fal_auth_failed" || !strings.Contains(e.Message, "AI_KEYS") {
			t.Fatalf("request %d: %+v", i, e)
		}
		if i == 1 && h.fake.Counts().Submits != submits {
			t.Fatal("a quarantined key was sent to fal")
		}
	}
	if n := h.fake.Counts().Rejected; n != 2 {
		t.Fatalf("fal rejected %d calls, want one per key", n)
	}
}

// TestRetryAfterIsCapped: keys resting for half an hour must not make a
// client sleep that long; a key that is rejected while another is rate
// limited still leaves the request worth retrying.
func TestRetryAfterIsCapped(t *testing.T) {
	h := newHarness(t)
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Key: "fal-key-1:secret1", Status: http.StatusUnauthorized})
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Status: http.StatusTooManyRequests, RetryAfter: "1800"})
	for i, want := range []string{"fal_rate_limited", "fal_keys_unavailable"} {
		code, hdr, body := h.post(context.Background(), "/v1/images/generations", genBody)
		if code != http.StatusServiceUnavailable || hdr.Get("X-Should-Retry") == "false" {
			t.Fatalf("request %d: status %d, x-should-retry %q: %s", i, code, hdr.Get("X-Should-Retry"), body)
		}
		if e := decodeError(t, body); deref(e.Code) != want {
			t.Fatalf("request %d: code %q, want %s", i, deref(e.Code), want)
		}
		secs, _ := strconv.Atoi(hdr.Get("Retry-After"))
		ms, _ := strconv.Atoi(hdr.Get("Retry-After-Ms"))
		if secs < 1 || secs > 60 || ms < 1 || ms > 60_000 {
			t.Fatalf("request %d: Retry-After %q, Retry-After-Ms %q; want at most a minute", i, hdr.Get("Retry-After"), hdr.Get("Retry-After-Ms"))
		}
	}
	if n := h.fake.Counts().Submits; n != 2 {
		t.Fatalf("%d submits, want one per key and none while they rest", n)
	}
}
