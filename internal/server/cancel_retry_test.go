package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// A client that goes away leaves a job that must be cancelled at fal even
// when the first cancel calls fail (dropped connections): the cancel is
// retried until fal confirms it, and the outcome is counted.
func TestAbandonedJobIsCancelledDespiteFailedCancels(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.fake.GenerationTime = 30 * time.Second
		s.metrics = true
	})
	h.fake.Inject(falfake.Fault{Op: falfake.OpCancel, Drop: true, Times: 2})
	cancel, done := h.postInBackground("/v1/images/generations", genBody)
	eventually(t, "fal has the job", func() bool { return len(h.fake.Jobs()) == 1 })
	cancel()
	<-done
	eventually(t, "the job is cancelled at fal", func() bool { return h.fake.Jobs()[0].Cancelled })
	if c := h.fake.Counts(); c.Cancels != 3 || c.Submits != 1 {
		t.Fatalf("fal saw %+v; want one submit and three cancels", c)
	}
	req, _ := http.NewRequest(http.MethodGet, h.url+"/metrics", nil)
	var text string
	eventually(t, "the cancel is counted", func() bool {
		_, _, body := h.do(req)
		text = string(body)
		return strings.Contains(text, `falproxy_fal_cancels_total{outcome="confirmed"} 1`)
	})
	for _, want := range []string{
		`falproxy_fal_cancel_retries_total 2`,
		`falproxy_fal_cancels_total{outcome="gave_up"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
