package teams

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/store/pgtest"
)

// TestCloseWritesEveryQueuedRow: rows queued just before a shutdown are
// all in the store once Close returns.
func TestCloseWritesEveryQueuedRow(t *testing.T) {
	ctx := context.Background()
	st, g := sqliteGate(t)
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
		if _, ok, _ := l.AllowRequest("k", 3, start.Add(time.Duration(i)*10*time.Second)); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	wait, ok, _ := l.AllowRequest("k", 3, start.Add(30*time.Second))
	if ok || wait != 30*time.Second {
		t.Fatalf("fourth request: ok %v, wait %v (the first leaves the window 30 s later)", ok, wait)
	}
	if _, ok, _ := l.AllowRequest("k", 3, start.Add(60*time.Second)); !ok {
		t.Fatal("a minute after the first request, one more is allowed")
	}
}

// TestSpendIsCountedOnce: a settled cost counts while the ledger holds
// it, and after it is stored it counts in the store's sum, never in both.
func TestSpendIsCountedOnce(t *testing.T) {
	l := NewLocalLimits()
	b := Budget{Limit: 100, HardStop: true}
	r, ok, _ := l.Reserve("k", b, 60)
	if !ok {
		t.Fatal("first reservation refused")
	}
	if _, ok, _ := l.Reserve("k", b, 60); ok {
		t.Fatal("a reservation past the budget was granted")
	}
	l.Settle(r, 60)
	l.Settle(r, 60) // a second settle changes nothing
	if _, ok, _ := l.Reserve("k", b, 50); ok {
		t.Fatal("settled but unstored spend was not counted")
	}
	l.Stored(map[string]int64{"k": 60}) // the ledger wrote it; the store's sum is not reloaded yet
	if _, ok, _ := l.Reserve("k", b, 50); ok {
		t.Fatal("spend stored after the last load was not counted")
	}
	l.Loaded("k", time.Time{}) // reloaded: the store's sum now holds it
	b.Spent = 60
	if _, ok, _ := l.Reserve("k", b, 40); !ok {
		t.Fatal("the remaining 40 were refused")
	}
}

// TestSpendLoadedWhileRowsCommitCountsOnce: a key's spend read from the
// store right after a ledger batch committed, before its spend moved to
// stored, would count the batch twice and refuse a request the budget
// still covers.
func TestSpendLoadedWhileRowsCommitCountsOnce(t *testing.T) {
	ctx := context.Background()
	st, g := sqliteGate(t)
	defer g.Close(ctx)
	k, secret, sess := hardBudgetKey(t, st, g, 100)
	r, ok, _ := g.Reserve(sess, 60)
	if !ok {
		t.Fatal("the first 60 were refused")
	}
	// Right after the rows commit, the key is loaded again: at once when
	// nothing holds the spend count still, else as soon as it is free.
	reloaded := make(chan *Session, 1)
	g.insertRows = func(ctx context.Context, rows []store.Row) ([]bool, error) {
		inserted, err := st.InsertRows(ctx, rows)
		if err != nil {
			return nil, err
		}
		reload := func() {
			g.mu.Lock()
			clear(g.cache)
			g.mu.Unlock()
			s, err := g.Lookup(context.Background(), store.HashKey(secret))
			if err != nil {
				t.Error(err)
			}
			reloaded <- s
		}
		if g.storing.TryRLock() {
			g.storing.RUnlock()
			reload()
		} else {
			go func() { // once the commit has moved the spend to stored
				g.storing.RLock()
				g.storing.RUnlock()
				reload()
			}()
		}
		return inserted, nil
	}
	cost := int64(60)
	g.Settle(r, cost)
	g.Record(store.Row{Time: time.Now(), KeyID: k.ID, KeyName: k.Name, Alias: "a", CostMicros: &cost, Status: 200})
	if left := g.Flush(ctx); left != 0 {
		t.Fatalf("%d rows left", left)
	}
	sess = <-reloaded
	if _, ok, _ := g.Reserve(sess, 40); !ok {
		t.Fatal("the remaining 40 of the budget were refused: the 60 spent counted twice")
	}
}

// TestLedgerOutageIsBounded: while the database does not answer, the
// queue stops growing at its cap, counting what it drops, and Close
// returns when its context ends instead of waiting for the stuck write.
func TestLedgerOutageIsBounded(t *testing.T) {
	ctx := context.Background()
	_, g := sqliteGate(t)
	entered, unstuck := make(chan struct{}), make(chan struct{})
	var once sync.Once
	g.insertRows = func(context.Context, []store.Row) ([]bool, error) {
		once.Do(func() { close(entered) })
		<-unstuck // a database that never answers, whatever the deadline
		return nil, context.DeadlineExceeded
	}
	defer close(unstuck)
	row := store.Row{Time: time.Now(), KeyName: "k", Alias: "a", Status: 200}
	g.Record(row)
	<-entered // the writer holds that row in its stuck batch
	for range maxQueued + 5 {
		g.Record(row)
	}
	if got := g.LedgerDropped(); got != 5 {
		t.Fatalf("dropped %d rows, want the 5 past the cap", got)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if left := g.Close(done); left != maxQueued {
		t.Fatalf("Close reported %d rows left, want %d", left, maxQueued)
	}
}

// TestMadeUpKeysCannotEvictRealOnes: more made-up keys than the cache
// holds leave a real key cached, and a made-up key presented again is
// refused without asking the store (here closed).
func TestMadeUpKeysCannotEvictRealOnes(t *testing.T) {
	ctx := context.Background()
	st, g := sqliteGate(t)
	defer g.Close(ctx)
	_, secret, err := st.CreateKey(ctx, NewKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Lookup(ctx, store.HashKey(secret)); err != nil {
		t.Fatal(err)
	}
	for i := range maxCached + 1 {
		if _, err := g.Lookup(ctx, store.HashKey(store.KeyPrefix+"made-up-"+strconv.Itoa(i))); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("made-up key %d: %v", i, err)
		}
	}
	_ = st.Close()
	if _, err := g.Lookup(ctx, store.HashKey(secret)); err != nil {
		t.Fatalf("the real key after the made-up ones, with the store closed: %v", err)
	}
	if _, err := g.Lookup(ctx, store.HashKey(store.KeyPrefix+"made-up-"+strconv.Itoa(maxCached))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a made-up key presented again: %v, want it refused as unknown without the store", err)
	}
}

// sqliteGate is a gate on a fresh SQLite store, closed after the test.
func sqliteGate(t *testing.T) (*store.Store, *Gate) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "falproxy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, New(Options{Store: st})
}

// TestSettlementIsWrittenOnce: a settlement row keeps the UID named after
// fal's request id, so that writing it again (a repeated poll, another
// replica) adds nothing, and it is no request of its own.
func TestSettlementIsWrittenOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, g *Gate) {
		ctx := context.Background()
		cost, refund := int64(400000), int64(-400000)
		g.Record(store.Row{Time: time.Now(), KeyID: "k", KeyName: "k", Alias: "a", CostMicros: &cost, Status: 200})
		for range 3 {
			g.Record(store.Row{Time: time.Now(), KeyID: "k", KeyName: "k", Alias: "a", CostMicros: &refund, UID: store.SettlementPrefix + "req-1"})
			if left := g.Flush(ctx); left != 0 {
				t.Fatalf("%d rows not written", left)
			}
		}
		got, err := st.Usage(ctx, store.UsageFilter{})
		if err != nil || len(got) != 1 || got[0].Requests != 1 || got[0].CostUSD != 0 {
			t.Fatalf("usage %+v %v, want one request refunded once", got, err)
		}
		if lost := g.Close(ctx); lost != 0 {
			t.Fatalf("%d rows lost", lost)
		}
	})
}

// storeURLs make a fresh database of each kind.
var storeURLs = map[string]func(t testing.TB) string{
	"sqlite":   func(t testing.TB) string { return "sqlite://" + filepath.Join(t.TempDir(), "falproxy.db") },
	"postgres": pgtest.URL,
}

// eachStore runs f on a gate over a fresh database of each kind.
func eachStore(t *testing.T, f func(t *testing.T, st *store.Store, g *Gate)) {
	for name, url := range storeURLs {
		t.Run(name, func(t *testing.T) {
			st, err := store.Open(context.Background(), url(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			f(t, st, New(Options{Store: st}))
		})
	}
}

// TestRepeatedRefundFreesTheBudgetOnce: a refund frees its cost of the
// key's budget in the process that writes it, and the same refund
// written again (a repeated poll) frees nothing more.
func TestRepeatedRefundFreesTheBudgetOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store, g *Gate) {
		ctx := context.Background()
		defer g.Close(ctx)
		cost, refund := int64(400_000), int64(-400_000)
		k, _, sess := hardBudgetKey(t, st, g, 500_000)
		r, ok, _ := g.Reserve(sess, cost)
		if !ok {
			t.Fatal("the first reservation was refused")
		}
		g.Settle(r, cost)
		g.Record(store.Row{Time: time.Now(), KeyID: k.ID, KeyName: k.Name, Alias: "a", CostMicros: &cost, Status: 200, UID: "req-1"})
		for range 3 {
			g.Adjust(store.Row{Time: time.Now(), KeyID: k.ID, KeyName: k.Name, Alias: "a", CostMicros: &refund, UID: store.SettlementPrefix + "req-1"})
			if left := g.Flush(ctx); left != 0 {
				t.Fatalf("%d rows not written", left)
			}
		}
		if _, ok, _ := g.Reserve(sess, cost); !ok {
			t.Fatal("the refund did not free the budget")
		}
		if _, ok, _ := g.Reserve(sess, cost); ok {
			t.Fatal("the refund freed the budget more than once")
		}
	})
}

// hardBudgetKey creates a key with a hard budget of micros for all time
// and looks it up through g.
func hardBudgetKey(t *testing.T, st *store.Store, g *Gate, micros int64) (store.Key, string, *Session) {
	t.Helper()
	ctx := context.Background()
	k := NewKey()
	k.BudgetMicros, k.BudgetPeriod, k.HardStop = &micros, store.PeriodTotal, true
	k, secret, err := st.CreateKey(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := g.Lookup(ctx, store.HashKey(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k, secret, sess
}
