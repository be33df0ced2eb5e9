package teams

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// watchedLimits is LocalLimits noting how the gate calls it: whether a
// reservation ran with the key's cache entry locked, and each Stored.
type watchedLimits struct {
	*LocalLimits
	entry       *cached
	lockedEntry bool
	storedCalls []map[string]int64
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
