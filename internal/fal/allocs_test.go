package fal

import (
	"context"
	"net/http"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestCallHeaders checks what every fal call carries, with the header
// values fal calls share (the key's, the request id's and the constant
// ones): fal receives the right key, id and content headers, and building
// a call allocates no header value of its own.
func TestCallHeaders(t *testing.T) {
	f := newFake(t, falfake.Options{})
	c := newClient(t, f, "key-a:secret-a")
	ctx := WithRequestID(context.Background(), "req-77")
	out, err := c.Run(ctx, "fal-ai/flux/dev", []byte(`{"prompt":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Body) == 0 {
		t.Fatal("no result")
	}
	calls := f.Received()
	if len(calls) != 3 {
		t.Fatalf("fal received %d calls, want submit, status stream and result", len(calls))
	}
	for _, call := range calls {
		want := map[string]string{"User-Agent": "falproxy", "Accept": "application/json"}
		if call.Op == falfake.OpStream {
			want["Accept"] = "text/event-stream"
		}
		if call.Op == falfake.OpSubmit {
			want["Content-Type"] = "application/json"
		}
		for name, v := range want {
			if got := call.Header.Get(name); got != v {
				t.Errorf("%s call: %s = %q, want %q", call.Op, name, got, v)
			}
		}
		if call.Key != "key-a:secret-a" || call.RequestID != "req-77" {
			t.Errorf("%s call: key %q, request id %q", call.Op, call.Key, call.RequestID)
		}
	}

	// http.NewRequestWithContext allocates 5 times (the request, its URL
	// and header map among them); the headers add nothing.
	const budget = 5
	k := c.opt.Pool.keys[0]
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.newRequest(ctx, http.MethodGet, f.QueueURL()+"/fal-ai/flux/dev/requests/1", k, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > budget {
		t.Errorf("a fal call's request takes %.0f allocations, budget %d", allocs, budget)
	}
}
