package teams

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// TestFlushUnderSteadyTrafficEnds: rows keep arriving, one with every
// batch written, so that the queue is never empty; a flush writes the
// rows queued before it and ends.
func TestFlushUnderSteadyTrafficEnds(t *testing.T) {
	st, g := sqliteGate(t)
	defer g.Close(context.Background())
	row := func() store.Row {
		return store.Row{Time: time.Now(), KeyID: "k", KeyName: "k", Alias: "a", Status: 200}
	}
	var traffic atomic.Bool
	g.insertRows = func(ctx context.Context, rows []store.Row) ([]bool, error) {
		if traffic.Load() {
			g.Record(row()) // the next request ends as this batch is written
		}
		return st.InsertRows(ctx, rows)
	}
	g.Record(row())
	traffic.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a guard: a flush that waits for an empty queue never ends
	defer cancel()
	left := g.Flush(ctx)
	traffic.Store(false)
	if left != 0 || ctx.Err() != nil {
		t.Fatalf("the flush left %d rows (%v)", left, ctx.Err())
	}
	totals, err := st.Usage(context.Background(), store.UsageFilter{})
	if err != nil || len(totals) != 1 || totals[0].Requests < 1 {
		t.Fatalf("usage %+v, %v: want the row queued before the flush", totals, err)
	}
}
