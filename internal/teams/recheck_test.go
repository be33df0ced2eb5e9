package teams

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// countVersionReads makes g count its reads of key versions, failing
// those of the key failing.
func countVersionReads(g *Gate, failing string) *atomic.Int64 {
	var n atomic.Int64
	read := g.keyVersion
	g.keyVersion = func(ctx context.Context, id string) (time.Time, error) {
		n.Add(1)
		if id == failing {
			return time.Time{}, errors.New("the database does not answer")
		}
		return read(ctx, id)
	}
	return &n
}

// TestOnlyRequestsThatSpendReadTheKeysVersion: a cached key is used as it
// is by a request that does not spend (a model list, a video poll); one
// that spends reads its version first.
func TestOnlyRequestsThatSpendReadTheKeysVersion(t *testing.T) {
	st, g := sqliteGate(t)
	defer g.Close(context.Background())
	_, secret, sess := hardBudgetKey(t, st, g, 100)
	reads := countVersionReads(g, "")
	if _, err := g.Lookup(context.Background(), store.HashKey(secret)); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("a lookup of a cached key read its version %d times, want none", n)
	}
	if _, err := g.Recheck(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("a request about to spend read the key's version %d times, want once", n)
	}
}

// TestAFailedVersionReadPausesOnlyItsKey: when the version of one key
// cannot be read, its cached key is used, and that key's version is not
// read again for CacheTTL; other keys are still checked.
func TestAFailedVersionReadPausesOnlyItsKey(t *testing.T) {
	st, g := sqliteGate(t)
	defer g.Close(context.Background())
	failing, _, failingSess := hardBudgetKey(t, st, g, 100)
	_, _, other := hardBudgetKey(t, st, g, 100)
	reads := countVersionReads(g, failing.ID)
	for range 2 {
		if s, err := g.Recheck(context.Background(), failingSess); err != nil || s != failingSess {
			t.Fatalf("the key whose version cannot be read: %v, %v; want it as cached", s, err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("the failing key's version was read %d times, want once", n)
	}
	if _, err := g.Recheck(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 2 {
		t.Fatalf("another key's version was read %d times, want once", n-1)
	}
}

// TestAnOlderReadOfAKeyDoesNotReplaceANewerOne: a background refresh
// that read a key before it changed and ends after a load that read the
// change leaves the newer key cached.
func TestAnOlderReadOfAKeyDoesNotReplaceANewerOne(t *testing.T) {
	st, g := sqliteGate(t)
	defer g.Close(context.Background())
	_, secret, sess := hardBudgetKey(t, st, g, 100)
	c := sess.entry
	newer := sess.Key
	newer.UpdatedAt = newer.UpdatedAt.Add(time.Hour) // as a change read meanwhile
	c.mu.Lock()
	c.key = newer
	c.mu.Unlock()
	if err := g.load(context.Background(), store.HashKey(secret), c, time.Now()); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.key.UpdatedAt.Equal(newer.UpdatedAt) {
		t.Fatalf("the cached key is of %v, want the newer %v", c.key.UpdatedAt, newer.UpdatedAt)
	}
}

// TestRefusedRequestsReadTheKeyOncePerCacheTTL: the requests of a key
// refused by its limits read the key's version once per CacheTTL, not
// once each.
func TestRefusedRequestsReadTheKeyOncePerCacheTTL(t *testing.T) {
	st, g := sqliteGate(t)
	defer g.Close(context.Background())
	_, _, sess := hardBudgetKey(t, st, g, 100)
	reads := countVersionReads(g, "")
	for range 5 {
		if s, err := g.RecheckRefused(context.Background(), sess); err != nil || s.Key.ID != sess.Key.ID {
			t.Fatalf("recheck of a refused request: %v, %v", s, err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("five refused requests read the key's version %d times, want once", n)
	}
}
