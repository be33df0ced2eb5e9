package fleet

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/fleet/redistest"
	"github.com/falproxy/falproxy/internal/teams"
)

// replicaLimits is one replica's shared limits on the Redis at url: its
// own fleet link, as a separate process would have.
func replicaLimits(t *testing.T, url string, opt Options) *Limits {
	t.Helper()
	return NewLimits(open(t, url, opt))
}

func TestSharedRateIsExactAcrossReplicas(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	b := replicaLimits(t, r.URL(), Options{})
	now := time.Now()
	allowed := 0
	for i := range 15 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wait, ok, _ := l.AllowRequest("k1", 10, now)
		switch {
		case ok:
			allowed++
		case wait <= 0 || wait > time.Minute:
			t.Errorf("request %d refused with retry-after %v, want within the minute", i, wait)
		}
	}
	if allowed != 10 {
		t.Errorf("two replicas allowed %d of 15 requests at 10 a minute, want exactly 10", allowed)
	}
	if _, ok, _ := a.AllowRequest("k2", 10, now); !ok {
		t.Error("another key was refused: windows are per key")
	}
	if n := a.Fallbacks() + b.Fallbacks(); n != 0 {
		t.Errorf("%d fallbacks with Redis up", n)
	}
}

func TestSharedLeasesAcrossReplicas(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	b := replicaLimits(t, r.URL(), Options{})
	releaseA, ok, _ := a.Acquire("k", 2)
	if !ok {
		t.Fatal("first slot refused")
	}
	if _, ok, _ := b.Acquire("k", 2); !ok {
		t.Fatal("second slot refused")
	}
	if _, ok, _ := a.Acquire("k", 2); ok {
		t.Fatal("a third request took a slot of two")
	}
	if _, ok, _ := b.Acquire("k", 2); ok {
		t.Fatal("a third request took a slot of two on the other replica")
	}
	releaseA()
	releaseA() // a second release frees nothing more
	if _, ok, _ := b.Acquire("k", 2); !ok {
		t.Fatal("a released slot could not be taken by the other replica")
	}
	if _, ok, _ := b.Acquire("k", 2); ok {
		t.Fatal("a double release freed two slots")
	}
}

// TestLeasesOfADeadReplicaExpire: a replica that stops renewing (killed)
// loses its slots after the lease TTL, while a live replica's lease
// outlives the TTL because it is renewed.
func TestLeasesOfADeadReplicaExpire(t *testing.T) {
	r := redistest.Start(t)
	const ttl = 600 * time.Millisecond
	live := replicaLimits(t, r.URL(), Options{LeaseTTL: ttl})
	dead := replicaLimits(t, r.URL(), Options{LeaseTTL: ttl})
	other := replicaLimits(t, r.URL(), Options{LeaseTTL: ttl})
	if _, ok, _ := live.Acquire("k", 2); !ok {
		t.Fatal("live replica's slot refused")
	}
	if _, ok, _ := dead.Acquire("k", 2); !ok {
		t.Fatal("dying replica's slot refused")
	}
	killed := time.Now()
	_ = dead.f.Close() // stops renewing and never releases, as SIGKILL would
	if _, ok, _ := other.Acquire("k", 2); ok {
		t.Fatal("a slot was free while both leases were fresh")
	}
	var release func()
	// Its lease was renewed at most a renewal period before; + 0.5 s for
	// a loaded machine.
	within(t, "the dead replica's slot is free", killed, ttl+ttl/3+500*time.Millisecond, func() bool {
		var ok bool
		release, ok, _ = other.Acquire("k", 2)
		return ok
	})
	release()
	time.Sleep(3 * ttl) // several TTLs: only renewal keeps the live lease
	if _, ok, _ := other.Acquire("k", 1); ok {
		t.Fatal("the live replica's renewed lease expired")
	}
}

// TestBudgetHoldsUnderConcurrencyAcrossReplicas: 40 reservations at once,
// 20 on each of two replicas, against a budget covering 10.
func TestBudgetHoldsUnderConcurrencyAcrossReplicas(t *testing.T) {
	r := redistest.Start(t)
	reps := []*Limits{
		replicaLimits(t, r.URL(), Options{}),
		replicaLimits(t, r.URL(), Options{}),
	}
	for _, l := range reps {
		l.Loaded("k", time.Time{})
	}
	b := teams.Budget{Limit: 10_000, HardStop: true}
	var wg sync.WaitGroup
	var taken atomic.Int64
	holds := make(chan struct {
		l *Limits
		r *teams.Reservation
	}, 40)
	start := make(chan struct{})
	for i := range 40 {
		l := reps[i%2]
		wg.Go(func() {
			<-start
			if res, ok, _ := l.Reserve("k", b, 1000); ok {
				taken.Add(1)
				holds <- struct {
					l *Limits
					r *teams.Reservation
				}{l, res}
			}
		})
	}
	close(start)
	wg.Wait()
	close(holds)
	if n := taken.Load(); n != 10 {
		t.Fatalf("%d of 40 reservations of $0.001 taken against a $0.01 budget, want 10", n)
	}
	// Settled at half the estimate: half the budget is free again.
	for h := range holds {
		h.l.Settle(h.r, 500)
		h.l.Settle(h.r, 500) // settled twice: counted once
	}
	got := 0
	for i := range 10 {
		if _, ok, _ := reps[i%2].Reserve("k", b, 1000); ok {
			got++
		}
	}
	if got != 5 {
		t.Errorf("after settling at half, %d more reservations taken, want 5", got)
	}
}

// TestBudgetCountsSpendStoredAfterAnotherReplicasRead: replica A read the
// store's spend before replica B wrote its ledger rows; A must still count
// B's spend, now out of Redis's unstored counts, until A reads again.
func TestBudgetCountsSpendStoredAfterAnotherReplicasRead(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	b := replicaLimits(t, r.URL(), Options{})
	budget := teams.Budget{Limit: 10_000, HardStop: true}
	a.Loaded("k", time.Time{}) // A reads the store: nothing spent yet
	b.Loaded("k", time.Time{})
	res, ok, _ := b.Reserve("k", budget, 6000)
	if !ok {
		t.Fatal("B's reservation refused")
	}
	b.Settle(res, 6000)
	b.Stored(map[string]int64{"k": 6000}) // B's ledger row is written: the store holds it
	if _, ok, _ := a.Reserve("k", budget, 5000); ok {
		t.Fatal("A, with its read of the store from before, took $0.005 of the $0.004 left")
	}
	if _, ok, _ := a.Reserve("k", budget, 4000); !ok {
		t.Fatal("A refused the $0.004 that is left")
	}
	// A reads the store again, long after: the store now holds B's spend,
	// which is no longer counted twice.
	forgetHistory(t, r, "k")
	mark := a.Loaded("k", time.Time{})
	if _, ok, _ := a.Reserve("k", teams.Budget{Limit: 10_000, Spent: 6000, HardStop: true, Mark: mark}, 1); ok {
		t.Fatal("a reservation passed a spent budget")
	}
	res2, _, _ := a.Reserve("k", teams.Budget{Limit: -1}, 0)
	a.Settle(res2, -4000) // a refund frees what A held
	if _, ok, _ := a.Reserve("k", teams.Budget{Limit: 10_000, Spent: 6000, HardStop: true, Mark: mark}, 4000); !ok {
		t.Fatal("with $0.006 stored and nothing else held, $0.004 was refused")
	}
}

// TestBudgetCountsSpendStoredWhileAReadRan: B writes its ledger row while
// A's read of the store runs, so A's read may lack it though A reports the
// read after B's write; A counts it all the same.
func TestBudgetCountsSpendStoredWhileAReadRan(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	b := replicaLimits(t, r.URL(), Options{})
	b.Loaded("k", time.Time{})
	res, ok, _ := b.Reserve("k", teams.Budget{Limit: 10_000, HardStop: true}, 6000)
	if !ok {
		t.Fatal("B's reservation refused")
	}
	b.Settle(res, 6000)
	// A's read of the store starts here and sees nothing spent; B's row
	// is written; A's read ends.
	b.Stored(map[string]int64{"k": 6000})
	mark := a.Loaded("k", time.Time{})
	if _, ok, _ := a.Reserve("k", teams.Budget{Limit: 10_000, Spent: 0, HardStop: true, Mark: mark}, 5000); ok {
		t.Fatal("A took $0.005 of the $0.004 left: the spend B stored during A's read was not counted")
	}
}

// forgetHistory drops the stored counter's history of a total budget
// (period 0), as its expiry would once the read is older than it.
func forgetHistory(t *testing.T, r *redistest.Server, keyID string) {
	t.Helper()
	if err := r.Client().Del(t.Context(), "falproxy:stored:"+keyID+":0").Err(); err != nil {
		t.Fatal(err)
	}
}

// TestLimitsFallBackToSharesAndReturn: with Redis stopped each replica
// enforces its share of every limit; when Redis is back the shared limits
// apply again, with the requests still running counted.
func TestLimitsFallBackToSharesAndReturn(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{Replicas: 2})
	b := replicaLimits(t, r.URL(), Options{Replicas: 2})
	a.Loaded("k", time.Time{})
	running, ok, _ := a.Acquire("k", 2) // runs across the outage
	if !ok {
		t.Fatal("slot refused")
	}
	defer running()
	now := time.Now()
	for range 3 { // served through Redis before the outage
		if _, ok, _ := a.AllowRequest("k", 10, now); !ok {
			t.Fatal("request refused with Redis up")
		}
	}
	r.Stop()
	allowed := 0
	for range 10 {
		if _, ok, _ := a.AllowRequest("k", 10, now); ok {
			allowed++
		}
	}
	if allowed != 2 {
		t.Errorf("with Redis down one of 2 replicas that served 3 requests this minute allowed %d more at 10 a minute, want 2 to its share of 5", allowed)
	}
	if _, ok, _ := a.Acquire("k", 2); ok {
		t.Error("with Redis down a replica running 1 request took a second slot beyond its share of 1")
	}
	budget := teams.Budget{Limit: 10_000, HardStop: true}
	if _, ok, _ := a.Reserve("k", budget, 5000); !ok {
		t.Error("with Redis down the replica's half of the budget was refused")
	}
	if _, ok, _ := a.Reserve("k", budget, 1); ok {
		t.Error("with Redis down a replica spent beyond its half of the budget")
	}
	if a.Fallbacks() == 0 {
		t.Error("no fallback counted")
	}

	r.Restart()
	eventually(t, "both replicas up again", func() bool { return a.f.Up() && b.f.Up() })
	// The request running on A holds its slot again: one of two is free.
	release, ok, _ := b.Acquire("k", 2)
	if !ok {
		t.Fatal("no slot free after the return")
	}
	defer release()
	if _, ok, _ := b.Acquire("k", 2); ok {
		t.Error("after the return the slot of the request still running on A was free")
	}
	// A's reservation made during the outage counts for B.
	eventually(t, "A's reservation written back", func() bool {
		_, ok, _ := b.Reserve("k", budget, 5001)
		return !ok
	})
	if _, ok, _ := b.Reserve("k", budget, 5000); !ok {
		t.Error("after the return B could not take the half A left")
	}
	shared := 0
	for range 10 {
		if _, ok, _ := b.AllowRequest("k", 4, time.Now()); ok {
			shared++
		}
	}
	if shared != 4 {
		t.Errorf("after the return a replica allowed %d requests at 4 a minute, want the shared 4", shared)
	}
}
