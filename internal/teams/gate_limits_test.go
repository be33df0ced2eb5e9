package teams

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// watchedLimits is LocalLimits noting how the gate calls it: whether a
// reservation ran with the key's cache entry locked, each Stored, and
// each Loaded and whether it ran with the gate's storing held.
type watchedLimits struct {
	*LocalLimits
	gate          *Gate
	entry         *cached
	lockedEntry   bool
	storedCalls   []map[string]int64
	loads         int
	loadedStoring bool
	// whileLoading runs right after Loaded, as a request of the key
	// would while the store's spend is being read.
	whileLoading func()
}

func (w *watchedLimits) Loaded(keyID string, period time.Time) string {
	w.loads++
	if w.gate.storing.TryLock() {
		w.gate.storing.Unlock()
	} else {
		w.loadedStoring = true
	}
	mark := w.LocalLimits.Loaded(keyID, period)
	if w.whileLoading != nil {
		w.whileLoading()
	}
	return mark
}

func (w *watchedLimits) Reserve(keyID string, b Budget, estimate int64) (*Reservation, bool, bool) {
	if w.entry != nil {
		if w.entry.mu.TryLock() {
			w.entry.mu.Unlock()
		} else {
			w.lockedEntry = true
		}
	}
	return w.LocalLimits.Reserve(keyID, b, estimate)
}

func (w *watchedLimits) Stored(spend map[string]int64) {
	w.storedCalls = append(w.storedCalls, maps.Clone(spend))
	w.LocalLimits.Stored(spend)
}

func watchedGate(t *testing.T) (*store.Store, *Gate, *watchedLimits) {
	t.Helper()
	st, local := sqliteGate(t)
	local.Close(context.Background()) // the store, with the watched limits instead
	w := &watchedLimits{LocalLimits: NewLocalLimits()}
	g := New(Options{Store: st, Limits: w})
	w.gate = g
	t.Cleanup(func() { g.Close(context.Background()) })
	return st, g, w
}

// TestReserveLeavesTheKeyFree: a reservation, which may wait on a shared
// store, does not hold the key's entry, so that the key's other requests
// need not wait for it.
func TestReserveLeavesTheKeyFree(t *testing.T) {
	st, g, w := watchedGate(t)
	_, _, sess := hardBudgetKey(t, st, g, 100)
	w.entry = sess.entry
	if _, ok, _ := g.Reserve(sess, 10); !ok {
		t.Fatal("reservation refused")
	}
	if w.lockedEntry {
		t.Error("the reservation ran with the key's entry locked")
	}
}

// TestLedgerBatchStoresOnce: the spend of a batch of ledger rows moves to
// stored in one call, summed by key.
func TestLedgerBatchStoresOnce(t *testing.T) {
	st, g, w := watchedGate(t)
	k1, _, _ := hardBudgetKey(t, st, g, 1000)
	k2, _, _ := hardBudgetKey(t, st, g, 1000)
	row := func(k store.Key, cost int64) store.Row {
		return store.Row{Time: time.Now(), KeyID: k.ID, KeyName: k.Name, Alias: "a", CostMicros: &cost, Status: 200}
	}
	rows := []store.Row{row(k1, 10), row(k2, 20), row(k1, 30)}
	if err := g.commit(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{k1.ID: 40, k2.ID: 20}
	if len(w.storedCalls) != 1 || !maps.Equal(w.storedCalls[0], want) {
		t.Errorf("stored %v, want one call %v", w.storedCalls, want)
	}
}

// TestLoadedRunsWithoutStoring: a key's load reports Loaded, which may
// wait on a shared store, without holding storing, so that a commit
// waiting for it does not hold every other key's load.
func TestLoadedRunsWithoutStoring(t *testing.T) {
	st, g, w := watchedGate(t)
	hardBudgetKey(t, st, g, 100)
	if w.loads != 1 || w.loadedStoring {
		t.Errorf("%d loads, one with storing held: %v; want one without", w.loads, w.loadedStoring)
	}
}

// TestKeyLoadsNeverInterleave: a background refresh that finds a load of
// the key under way leaves it to that load, so that an older read never
// replaces a newer one (nor its Loaded mark); a read older than the
// entry is dropped.
func TestKeyLoadsNeverInterleave(t *testing.T) {
	st, g, w := watchedGate(t)
	_, secret, sess := hardBudgetKey(t, st, g, 100)
	c := sess.entry
	c.loading.Lock()
	c.mu.Lock()
	c.refreshing = true
	c.mu.Unlock()
	g.refresh(store.HashKey(secret), c)
	c.loading.Unlock()
	c.mu.Lock()
	refreshing := c.refreshing
	c.mu.Unlock()
	if w.loads != 1 || refreshing {
		t.Errorf("a refresh during a load loaded too (%d loads) or stayed under way (%v)", w.loads, refreshing)
	}

	newer := sess.Key.UpdatedAt.Add(time.Hour)
	c.mu.Lock()
	c.key.UpdatedAt, c.spent = newer, 42
	c.mu.Unlock()
	if err := g.load(context.Background(), store.HashKey(secret), c, time.Now()); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.key.UpdatedAt.Equal(newer) || c.spent != 42 {
		t.Errorf("an older read replaced the entry: version %v, spent %d", c.key.UpdatedAt, c.spent)
	}
}

// TestSpendStaysCountedWhileTheKeyReloads: a request that reserves while
// its key is read again counts the spend it knows with that spend's own
// mark, so that the spend stored since the earlier read still counts once
// the new read has begun and until its sum replaces the old one.
func TestSpendStaysCountedWhileTheKeyReloads(t *testing.T) {
	ctx := context.Background()
	st, g, w := watchedGate(t)
	k, _, sess := hardBudgetKey(t, st, g, 100)
	r, ok, _ := g.Reserve(sess, 60)
	if !ok {
		t.Fatal("the first 60 were refused")
	}
	cost := int64(60)
	g.Settle(r, cost)
	g.Record(store.Row{Time: time.Now(), KeyID: k.ID, KeyName: k.Name, Alias: "a", CostMicros: &cost, Status: 200})
	if left := g.Flush(ctx); left != 0 {
		t.Fatalf("%d rows left", left)
	}
	admitted := false
	w.whileLoading = func() {
		w.whileLoading = nil
		_, admitted, _ = g.Reserve(sess, 50)
	}
	if _, err := st.ModifyKey(ctx, k.ID, func(k *store.Key) error { k.Name = "renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	again, err := g.Recheck(ctx, sess)
	if err != nil || again.Key.Name != "renamed" {
		t.Fatalf("recheck: %v, name %q; want the key read again", err, again.Key.Name)
	}
	if w.whileLoading != nil {
		t.Fatal("the key was not read again")
	}
	if admitted {
		t.Error("50 more were granted on a budget of 100 with 60 spent: the spend stored before the new read was dropped")
	}
	if _, ok, _ := g.Reserve(again, 50); ok {
		t.Error("after the new read, 50 more were granted on a budget of 100 with 60 spent")
	}
	if _, ok, _ := g.Reserve(again, 40); !ok {
		t.Error("after the new read, the remaining 40 were refused")
	}
}
