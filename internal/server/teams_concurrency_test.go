package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestVirtualKeyConcurrentRequests: a key with max_concurrent 2 running
// two requests gets 429 rate_limit_exceeded, with Retry-After, for a third,
// which fal never sees; once the two end, the key runs requests again.
func TestVirtualKeyConcurrentRequests(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		h := newHarness(t, withTeams(&teamsSetup{url: url}), quick)
		_, key := h.createKey(map[string]any{"name": "narrow", "max_concurrent": 2})
		h.fake.Inject(falfake.Fault{Op: falfake.OpStream, Delay: time.Minute, Times: 2})
		var leave []context.CancelFunc
		var ended []<-chan struct{}
		for range 2 {
			cancel, done := h.postInBackgroundAs(key, "/v1/images/generations", imageBody)
			leave, ended = append(leave, cancel), append(ended, done)
		}
		eventually(t, "both requests to run at fal", func() bool { return h.fake.Counts().StatusStreams == 2 })
		ctx := context.Background()
		status, hdr, body := h.postAs(ctx, key, "/v1/images/generations", imageBody)
		if e := decodeError(t, body); status != http.StatusTooManyRequests || deref(e.Code) != "rate_limit_exceeded" || hdr.Get("Retry-After") == "" {
			t.Fatalf("a third request at once: %d %+v %v", status, e, hdr)
		}
		if n := h.falSubmits("fal-ai/flux/dev"); n != 2 {
			t.Fatalf("fal received %d jobs, want the two running", n)
		}
		for i := range leave {
			leave[i]()
			<-ended[i]
		}
		eventually(t, "the key to run a request again", func() bool {
			status, _, _ := h.postAs(ctx, key, "/v1/images/generations", imageBody)
			return status == http.StatusOK
		})
	})
}
