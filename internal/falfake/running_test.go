package falfake

import (
	"net/http"
	"testing"
	"time"
)

func TestMaxRunningCountsOverlappingJobsOfOneKey(t *testing.T) {
	f, c := start(t, Options{GenerationTime: time.Hour})
	a, b := c.withKey("key-a"), c.withKey("key-b")
	in := map[string]any{"prompt": "a lighthouse"}
	first := a.submit(f, "fal-ai/flux/dev", in)
	a.submit(f, "fal-ai/flux/dev", in)
	b.submit(f, "fal-ai/flux/dev", in)
	if got := f.MaxRunning("key-a"); got != 2 {
		t.Fatalf("two running jobs of key-a counted as %d", got)
	}
	a.do(http.MethodPut, str(first, "cancel_url"), nil)
	a.submit(f, "fal-ai/flux/dev", in) // after the cancel: still two at most
	if got := f.MaxRunning("key-a"); got != 2 {
		t.Fatalf("key-a after a cancel and a new job: %d, want 2", got)
	}
	if got := f.MaxRunning("key-b"); got != 1 {
		t.Fatalf("key-b: %d, want 1", got)
	}
}
