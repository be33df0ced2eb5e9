package teams

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// TestCloseWritesEveryQueuedRow: rows queued just before a shutdown are
// all in the store once Close returns.
func TestCloseWritesEveryQueuedRow(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g := New(Options{Store: st})
	const rows = 5000
	cost := int64(10)
	for range rows {
		g.Record(store.Row{Time: time.Now(), KeyID: "k", KeyName: "k", Alias: "a", CostMicros: &cost, Status: 200})
	}
	if lost := g.Close(ctx); lost != 0 {
		t.Fatalf("%d rows lost", lost)
	}
	got, err := st.Usage(ctx, store.UsageFilter{})
	if err != nil || len(got) != 1 || got[0].Requests != rows {
		t.Fatalf("usage %+v %v, want %d rows", got, err, rows)
	}
}

func TestRequestsPerMinuteSlide(t *testing.T) {
	l := NewLocalLimits()
	start := time.Unix(1_000_000, 0)
	for i := range 3 {
		if _, ok := l.AllowRequest("k", 3, start.Add(time.Duration(i)*10*time.Second)); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	wait, ok := l.AllowRequest("k", 3, start.Add(30*time.Second))
	if ok || wait != 30*time.Second {
		t.Fatalf("fourth request: ok %v, wait %v (the first leaves the window 30 s later)", ok, wait)
	}
	if _, ok := l.AllowRequest("k", 3, start.Add(60*time.Second)); !ok {
		t.Fatal("a minute after the first request, one more is allowed")
	}
}

// TestSpendIsCountedOnce: a settled cost counts while the ledger holds
// it, and after it is stored it counts in the store's sum, never in both.
func TestSpendIsCountedOnce(t *testing.T) {
	l := NewLocalLimits()
	b := Budget{Limit: 100, HardStop: true}
	r, ok := l.Reserve("k", b, 60)
	if !ok {
		t.Fatal("first reservation refused")
	}
	if _, ok := l.Reserve("k", b, 60); ok {
		t.Fatal("a reservation past the budget was granted")
	}
	l.Settle(r, 60)
	l.Settle(r, 60) // a second settle changes nothing
	if _, ok := l.Reserve("k", b, 50); ok {
		t.Fatal("settled but unstored spend was not counted")
	}
	l.Stored("k", 60) // the ledger wrote it; the store's sum is not reloaded yet
	if _, ok := l.Reserve("k", b, 50); ok {
		t.Fatal("spend stored after the last load was not counted")
	}
	l.Loaded("k") // reloaded: the store's sum now holds it
	b.Spent = 60
	if _, ok := l.Reserve("k", b, 40); !ok {
		t.Fatal("the remaining 40 were refused")
	}
}
