package main

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestTallyAttributesCalls drives the emulator with two clients standing in
// for the proxy and the direct client, and checks that every call the
// "proxy" makes, including one that arrives after its request returned, is
// attributed to the right request.
func TestTallyAttributesCalls(t *testing.T) {
	fake, err := falfake.New(falfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	direct := &directClient{queueURL: fake.QueueURL(), key: directKey, hc: newHTTPClient(4)}
	stand := &directClient{queueURL: fake.QueueURL(), key: proxyKey, hc: newHTTPClient(4)}
	defer direct.hc.CloseIdleConnections()
	defer stand.hc.CloseIdleConnections()
	input := []byte(`{"prompt":"a lighthouse"}`)

	lateDone := make(chan struct{})
	calls := 0
	proxy := func(ctx context.Context) (obs, error) {
		calls++
		r, err := stand.generate(ctx, imageEndpoint, input)
		if err == nil {
			err = falImages(r)
		}
		if calls == 1 {
			// A straggler: one more call after the answer, finished
			// before the next request starts.
			go func() {
				defer close(lateDone)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fake.QueueURL()+"/fal-ai/flux/requests/none/status", nil)
				if resp, err := stand.do(req); err == nil {
					drain(resp)
				}
			}()
		}
		return obs{0}, err
	}
	directSide := func(ctx context.Context) (obs, error) {
		<-lateDone
		r, err := direct.generate(ctx, imageEndpoint, input)
		if err == nil {
			err = falImages(r)
		}
		return obs{0}, err
	}
	tl := &tally{fake: fake, direct: direct}
	if _, err := interleave(context.Background(), 3, tl.wrap(proxy), directSide); err != nil {
		t.Fatal(err)
	}
	got := tl.perRequest(0)
	if want := []int64{4, 3, 3}; !slices.Equal(got, want) {
		t.Errorf("per-request upstream calls %v, want %v", got, want)
	}
	if n := direct.calls.Load(); n != 9 {
		t.Errorf("direct client counted %d calls, want 9 (submit, stream, result ×3)", n)
	}
}
