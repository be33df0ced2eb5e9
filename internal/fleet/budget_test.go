package fleet

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/fleet/redistest"
	"github.com/falproxy/falproxy/internal/teams"
)

// field is replica l's field kind ("r:", "u:" ...) of the key's hash of
// a total budget, 0 when missing.
func field(t *testing.T, r *redistest.Server, l *Limits, keyID, kind string) int64 {
	t.Helper()
	v, err := r.Client().HGet(t.Context(), "falproxy:spend:"+keyID+":0", kind+l.f.id).Result()
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s%s is %q", kind, l.f.id, v)
	}
	return n
}

// TestBudgetWriteBackRacingASettleCountsOnce: a write-back of every
// count (after an outage) runs between a settle's change of the counts
// and its write to Redis. The settle must count once: neither the
// estimate freed twice nor the cost counted twice.
func TestBudgetWriteBackRacingASettleCountsOnce(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	b := replicaLimits(t, r.URL(), Options{})
	budget := teams.Budget{Limit: 10_000, HardStop: true}
	held, ok, _ := a.Reserve("k", budget, 3000) // runs across the race
	if !ok {
		t.Fatal("first reservation refused")
	}
	res, ok, _ := a.Reserve("k", budget, 1000)
	if !ok {
		t.Fatal("second reservation refused")
	}
	raced := false
	a.beforeSend = func() {
		if !raced { // once: the write-back sends too
			raced = true
			a.unsync()
			a.resync(context.Background(), a.f.rdb)
		}
	}
	a.Settle(res, 600)
	if got := field(t, r, a, "k", "r:") + field(t, r, a, "k", "p:"); got != 3000 {
		t.Errorf("A's reservations in Redis are %d, want the 3000 still held", got)
	}
	if got := field(t, r, a, "k", "u:"); got != 600 {
		t.Errorf("A's unstored spend in Redis is %d, want 600", got)
	}
	if _, ok, _ := b.Reserve("k", budget, 6401); ok {
		t.Error("B took more than the 6400 left")
	}
	if _, ok, _ := b.Reserve("k", budget, 6400); !ok {
		t.Error("B was refused the 6400 left")
	}
	a.Settle(held, 0)
}

// TestBudgetSurvivesARedisThatLostItsData: Redis restarts empty between
// two commands, unnoticed; a settle then writes what this replica holds,
// never a negative reservation that would offset other replicas'.
func TestBudgetSurvivesARedisThatLostItsData(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	budget := teams.Budget{Limit: 10_000, HardStop: true}
	res, ok, _ := a.Reserve("k", budget, 1000)
	if !ok {
		t.Fatal("reservation refused")
	}
	held, ok, _ := a.Reserve("k", budget, 2000)
	if !ok {
		t.Fatal("second reservation refused")
	}
	if err := r.Client().FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	a.Settle(res, 700)
	if got := field(t, r, a, "k", "r:"); got != 2000 {
		t.Errorf("after the loss A's reservations in Redis are %d, want the 2000 it holds", got)
	}
	if got := field(t, r, a, "k", "u:"); got != 700 {
		t.Errorf("after the loss A's unstored spend in Redis is %d, want 700", got)
	}
	a.Settle(held, 0)
}

// TestBudgetOfAGoneReplicaIsDropped: a replica that left the fleet (its
// heartbeat stopped, as with SIGKILL) no longer holds budget at the next
// reservation, and a new budget period starts from zero.
func TestBudgetOfAGoneReplicaIsDropped(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	dead := replicaLimits(t, r.URL(), Options{})
	budget := teams.Budget{Limit: 10_000, HardStop: true}
	res, ok, _ := dead.Reserve("k", budget, 4000)
	if !ok {
		t.Fatal("reservation refused")
	}
	dead.Settle(res, 3000) // its ledger row is never written
	if _, ok, _ := dead.Reserve("k", budget, 2000); !ok {
		t.Fatal("second reservation refused")
	}
	if _, ok, _ := a.Reserve("k", budget, 5001); ok {
		t.Fatal("the live replica took more than was left while the other was in the fleet")
	}
	// Out of the replica set, as its heartbeat would be after its TTL.
	if err := r.Client().ZRem(t.Context(), "falproxy:replicas", dead.f.id).Err(); err != nil {
		t.Fatal(err)
	}
	_ = dead.f.Close()
	if _, ok, _ := a.Reserve("k", budget, 10_000); !ok {
		t.Error("the reservations and unwritten spend of a replica gone from the fleet still count")
	}
	if n, _ := r.Client().HLen(t.Context(), "falproxy:spend:k:0").Result(); n > 8 {
		t.Errorf("the hash keeps %d fields, want the epoch and the live replica's", n)
	}

	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	daily := teams.Budget{Limit: 10_000, HardStop: true, Period: day}
	if _, ok, _ := a.Reserve("d", daily, 10_000); !ok {
		t.Fatal("a day's budget refused")
	}
	daily.Period = day.AddDate(0, 0, 1)
	if _, ok, _ := a.Reserve("d", daily, 10_000); !ok {
		t.Error("the next day's budget did not start from zero")
	}
}

// TestBudgetHashAlwaysExpires: a reservation refused on a key Redis did
// not know yet leaves no hash without a TTL.
func TestBudgetHashAlwaysExpires(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	if _, ok, _ := a.Reserve("k", teams.Budget{Limit: 100, Spent: 100, HardStop: true}, 1); ok {
		t.Fatal("a spent budget was reserved")
	}
	ttl, err := r.Client().PTTL(t.Context(), "falproxy:spend:k:0").Result()
	if err != nil || ttl <= 0 {
		t.Errorf("the hash's TTL is %v (%v), want about a day", ttl, err)
	}
}

// TestReservationPairsSpendWithItsRead: a reservation made with the spend
// of an older read of the store counts what was stored after that read,
// though a newer read has been noted since.
func TestReservationPairsSpendWithItsRead(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	b := replicaLimits(t, r.URL(), Options{})
	old := a.Loaded("k", time.Time{}) // the read that saw nothing spent
	res, ok, _ := b.Reserve("k", teams.Budget{Limit: 10_000, HardStop: true}, 6000)
	if !ok {
		t.Fatal("B's reservation refused")
	}
	b.Settle(res, 6000)
	b.Stored(map[string]int64{"k": 6000})
	forgetHistory(t, r, "k")
	a.Loaded("k", time.Time{}) // a newer read, whose spend is not in use yet
	if _, ok, _ := a.Reserve("k", teams.Budget{Limit: 10_000, Spent: 0, HardStop: true, Mark: old}, 5000); ok {
		t.Error("A took $0.005 with the spend of a read that lacks B's $0.006")
	}
}

// TestFallbackPairsSpendWithItsRead: with Redis away, a reservation made
// with the spend of an older read of the store still counts what was
// stored after that read, though a newer read has begun; once the newer
// read's spend is in use, the stored spend counts once.
func TestFallbackPairsSpendWithItsRead(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	r.Stop()
	old := a.Loaded("k", time.Time{}) // the read that saw nothing spent
	res, ok, _ := a.Reserve("k", teams.Budget{Limit: 100, HardStop: true, Mark: old}, 60)
	if !ok {
		t.Fatal("the first 60 were refused")
	}
	a.Settle(res, 60)
	a.Stored(map[string]int64{"k": 60})
	mark := a.Loaded("k", time.Time{}) // a newer read, whose spend is not in use yet
	if _, ok, _ := a.Reserve("k", teams.Budget{Limit: 100, HardStop: true, Mark: old}, 50); ok {
		t.Error("50 more were granted on a budget of 100 with 60 spent: the spend stored before the new read was dropped")
	}
	renewed := teams.Budget{Limit: 100, Spent: 60, HardStop: true, Mark: mark}
	if _, ok, _ := a.Reserve("k", renewed, 50); ok {
		t.Error("after the new read, 50 more were granted on a budget of 100 with 60 spent")
	}
	if _, ok, _ := a.Reserve("k", renewed, 40); !ok {
		t.Error("after the new read, the remaining 40 were refused")
	}
}

// TestKeyWithoutBudgetStaysLocal: the requests of a key without a budget
// make no budget calls to Redis.
func TestKeyWithoutBudgetStaysLocal(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	res, ok, _ := a.Reserve("free", teams.Budget{Limit: -1}, 500)
	if !ok {
		t.Fatal("a key without a budget was refused")
	}
	a.Settle(res, 400)
	a.Stored(map[string]int64{"free": 400})
	keys, err := r.Client().Keys(t.Context(), "falproxy:*free*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("Redis has %v (%v) for a key without a budget, want nothing", keys, err)
	}
}

// TestWriteBackLeavesTheCountsFree: while the write-back after an outage
// waits for Redis, budget calls need not wait for it; afterwards a key
// this replica holds nothing of is forgotten.
func TestWriteBackLeavesTheCountsFree(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	res, ok, _ := a.Reserve("k", teams.Budget{Limit: 10_000, HardStop: true}, 1000)
	if !ok {
		t.Fatal("reservation refused")
	}
	a.Settle(res, 1000)
	a.Stored(map[string]int64{"k": 1000})
	a.unsync()
	free := false
	a.beforeSend = func() {
		if free = a.mu.TryLock(); free {
			a.mu.Unlock()
		}
	}
	a.resync(context.Background(), a.f.rdb)
	if !free {
		t.Error("the write-back held the budget counts while it waited for Redis")
	}
	for range 2 { // two ticks without a reservation
		a.resync(context.Background(), a.f.rdb)
	}
	a.mu.Lock()
	n := len(a.spend.keys)
	a.mu.Unlock()
	if n != 0 {
		t.Errorf("%d keys of no budget held are still kept", n)
	}
}

// TestRequiredRefusesWithoutRedis: with REDIS_REQUIRED a limit that
// cannot be asked refuses rather than serve on a local share, and a
// request served before still has its cost written back.
func TestRequiredRefusesWithoutRedis(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{Required: true})
	budget := teams.Budget{Limit: 10_000, HardStop: true}
	res, ok, _ := a.Reserve("k", budget, 1000)
	if !ok {
		t.Fatal("reservation refused with Redis up")
	}
	r.Stop()
	if _, ok, _ := a.Reserve("k", budget, 1000); ok {
		t.Error("a reservation was served on the local share")
	}
	if _, ok, _ := a.AllowRequest("k", 10, time.Now()); ok {
		t.Error("a request was counted on the local share of the rate")
	}
	if _, ok, _ := a.Acquire("k", 10); ok {
		t.Error("a concurrency slot was taken on the local share")
	}
	a.Settle(res, 800)
	r.Restart()
	eventually(t, "the settled cost written back", func() bool { return field(t, r, a, "k", "u:") == 800 })
}

// TestBudgetCountsEndAtZeroUnderChurn: two replicas reserve, settle and
// store at once while write-backs run among them; once every request has
// ended and its spend is stored, each replica's counts in Redis are zero.
func TestBudgetCountsEndAtZeroUnderChurn(t *testing.T) {
	r := redistest.Start(t)
	reps := []*Limits{
		replicaLimits(t, r.URL(), Options{}),
		replicaLimits(t, r.URL(), Options{}),
	}
	budget := teams.Budget{Limit: 1 << 40, HardStop: true}
	var wg sync.WaitGroup
	for i := range 40 {
		l := reps[i%2]
		wg.Go(func() {
			res, ok, _ := l.Reserve("k", budget, 1000)
			if !ok {
				t.Error("reservation refused")
				return
			}
			l.Settle(res, 700)
			l.Stored(map[string]int64{"k": 700})
		})
	}
	for _, l := range reps {
		wg.Go(func() {
			for range 10 {
				l.unsync()
				l.resync(context.Background(), l.f.rdb)
			}
		})
	}
	wg.Wait()
	for _, l := range reps {
		l.unsync()
		l.resync(context.Background(), l.f.rdb) // nothing on its way: pending is emptied
		for _, kind := range []string{"r:", "p:", "u:"} {
			if v := field(t, r, l, "k", kind); v != 0 {
				t.Errorf("replica %s's %s is %d once everything ended, want 0", l.f.id, kind, v)
			}
		}
	}
	stored, _ := r.Client().HGet(t.Context(), "falproxy:spend:k:0", "stored").Int64()
	if stored != 40*700 {
		t.Errorf("stored counter %d, want %d", stored, 40*700)
	}
}

// TestRequiredBooksACostWithoutRedis: with REDIS_REQUIRED and Redis
// down, a cost booked after the fact (a late bill, a video's settlement)
// to a key with a budget is counted here and written back once Redis
// answers; only a budget check is refused.
func TestRequiredBooksACostWithoutRedis(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{Required: true})
	res, ok, _ := a.Reserve("k", teams.Budget{Limit: 10_000, HardStop: true}, 1000)
	if !ok {
		t.Fatal("reservation refused with Redis up")
	}
	a.Settle(res, 900)
	r.Stop()
	book, ok, _ := a.Reserve("k", teams.Budget{Limit: -1}, 0)
	if !ok {
		t.Fatal("a booking was refused")
	}
	a.Settle(book, 500)
	a.Settle(nil, 100) // a refused reservation settles as nothing
	r.Restart()
	eventually(t, "the booked cost written back", func() bool { return field(t, r, a, "k", "u:") == 1400 })
}

// TestBudgetSetWhileSpendIsQueued: spend settled while a key had no
// budget is still queued for the ledger when the key gets one; once the
// ledger holds it, this replica's unstored count ends at zero, never
// below, which would offset every replica's reservations.
func TestBudgetSetWhileSpendIsQueued(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{})
	res, _, _ := a.Reserve("k", teams.Budget{Limit: -1}, 0)
	a.Settle(res, 5000)
	budget := teams.Budget{Limit: 10_000, HardStop: true}
	res2, ok, _ := a.Reserve("k", budget, 1000)
	if !ok {
		t.Fatal("reservation refused")
	}
	a.Settle(res2, 1000)
	if got := field(t, r, a, "k", "u:"); got != 6000 {
		t.Errorf("unstored spend in Redis is %d before the ledger wrote it, want 6000", got)
	}
	a.Stored(map[string]int64{"k": 6000})
	if got := field(t, r, a, "k", "u:"); got != 0 {
		t.Errorf("unstored spend in Redis is %d once stored, want 0", got)
	}
}

// TestRequiredUnsyncedBudgetIsUnavailable: with REDIS_REQUIRED, a budget
// checked while this replica's counts await their write-back (Redis
// still up) is refused as unavailable, not as spent.
func TestRequiredUnsyncedBudgetIsUnavailable(t *testing.T) {
	r := redistest.Start(t)
	a := replicaLimits(t, r.URL(), Options{Required: true})
	budget := teams.Budget{Limit: 1 << 40, HardStop: true}
	if _, ok, unavailable := a.Reserve("k", budget, 1000); !ok || unavailable {
		t.Fatalf("with Redis up: taken %v, unavailable %v", ok, unavailable)
	}
	a.unsync() // as after a write that failed on a busy pool
	if _, ok, unavailable := a.Reserve("k", budget, 1000); ok || !unavailable || !a.f.Up() {
		t.Errorf("unsynced: taken %v, unavailable %v, up %v; want a refusal as unavailable with Redis up", ok, unavailable, a.f.Up())
	}
}
