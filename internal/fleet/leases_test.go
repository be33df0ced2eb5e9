package fleet

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/falproxy/falproxy/internal/fleet/redistest"
)

// firstCommandRuns runs fn before the first command a client sends, to
// interleave another call with it deterministically.
type firstCommandRuns struct {
	fn   func()
	once sync.Once
}

func (h *firstCommandRuns) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *firstCommandRuns) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.once.Do(h.fn)
		return next(ctx, cmd)
	}
}

func (h *firstCommandRuns) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestLeaseReleasedDuringWriteBackStaysFree: a lease released while the
// write-back after a loss of data is on its way must not be brought back
// by it, or its slot stays taken for a whole TTL.
func TestLeaseReleasedDuringWriteBackStaysFree(t *testing.T) {
	r := redistest.Start(t)
	s := open(t, r.URL(), Options{}).leases
	const set = "falproxy:leases:k"
	release, ok, err := s.acquire(set, 5)
	if err != nil || !ok {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	ctx := context.Background()
	r.Client().Del(ctx, set) // Redis lost its data
	c := r.Client()
	// The request ends after the write-back read its leases, and its
	// release reaches Redis first.
	c.AddHook(&firstCommandRuns{fn: release})
	if err := s.renew(ctx, c, true); err != nil {
		t.Fatal(err)
	}
	if n := r.Client().ZCard(ctx, set).Val(); n != 0 {
		t.Errorf("%d leases in the set after their request ended, want 0", n)
	}
}

// holdEachKind takes, through f, a slot of the virtual key "vk" and one
// of the fal key tagged "k1", each of max, held until the test ends.
func holdEachKind(t *testing.T, f *Fleet, max int) (*Limits, *KeySlots) {
	t.Helper()
	l, slots := NewLimits(f), NewKeySlots(f)
	done, ok, _ := l.Acquire("vk", max)
	if !ok {
		t.Fatal("no virtual key slot")
	}
	t.Cleanup(done)
	release, ok := tryAcquire(t, slots, max)
	if !ok {
		t.Fatal("no fal key slot")
	}
	t.Cleanup(release)
	return l, slots
}

// TestLeasesWrittenBackAfterAnOutage: the leases of requests running
// across an outage (virtual keys' and fal keys' alike, and virtual keys'
// admitted on the replica's share during it) are in Redis again when it
// answers, even if it restarted empty.
func TestLeasesWrittenBackAfterAnOutage(t *testing.T) {
	r := redistest.Start(t)
	f := open(t, r.URL(), Options{})
	l, slots := holdEachKind(t, f, 3)
	r.Stop()
	eventually(t, "Redis marked down", func() bool { return !f.Up() })
	during, ok, _ := l.Acquire("vk", 3)
	if !ok {
		t.Fatal("no slot on the replica's share during the outage")
	}
	defer during()
	defer slots.Hold("k1")() // a fal job on the replica's share
	r.Restart()
	eventually(t, "up again", f.Up)
	ctx := context.Background()
	rdb := r.Client()
	if n := rdb.ZCard(ctx, "falproxy:leases:vk").Val(); n != 2 {
		t.Errorf("virtual key leases after the return: %d, want 2", n)
	}
	if n := rdb.ZCard(ctx, "falproxy:keyslots:k1").Val(); n != 2 {
		t.Errorf("fal key leases after the return: %d, want 2", n)
	}
}

// renewalCalls records the sets each renewal call a client sent named.
type renewalCalls struct {
	mu   sync.Mutex
	sets [][]string
}

func (h *renewalCalls) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *renewalCalls) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if sets, ok := renewedSets(cmd); ok && err == nil {
			h.mu.Lock()
			h.sets = append(h.sets, sets)
			h.mu.Unlock()
		}
		return err
	}
}

func (h *renewalCalls) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *renewalCalls) calls() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.sets)
}

// renewedSets is the sorted sets a call of renewScript (by its hash, or
// its source when Redis lacked it) names.
func renewedSets(cmd redis.Cmder) ([]string, bool) {
	args := cmd.Args()
	if len(args) < 3 {
		return nil, false
	}
	script, _ := args[1].(string)
	switch cmd.Name() {
	case "evalsha":
	case "eval":
		sum := sha1.Sum([]byte(script))
		script = hex.EncodeToString(sum[:])
	default:
		return nil, false
	}
	n, _ := args[2].(int)
	if script != renewScript.Hash() || len(args) < 3+n {
		return nil, false
	}
	sets := make([]string, 0, n)
	for _, k := range args[3 : 3+n] {
		sets = append(sets, k.(string))
	}
	slices.Sort(sets)
	return sets, true
}

// TestOneLoopRenewsEveryKindOfLease: a virtual key's lease and a fal
// key's, held on one replica, are renewed together, each period in one
// call naming both. The TTL leaves the leases alive through a stall of
// seconds on a loaded machine; renewals still come every second.
func TestOneLoopRenewsEveryKindOfLease(t *testing.T) {
	r := redistest.Start(t)
	f := open(t, r.URL(), Options{LeaseTTL: 3 * time.Second})
	holdEachKind(t, f, 1)
	ctx := context.Background()
	rdb := r.Client()
	want := []string{"falproxy:keyslots:k1", "falproxy:leases:vk"}
	taken := map[string]redis.Z{}
	for _, set := range want {
		leases, err := rdb.ZRangeWithScores(ctx, set, 0, 0).Result()
		if err != nil || len(leases) != 1 {
			t.Fatalf("%s holds %v (%v), want the lease just taken", set, leases, err)
		}
		taken[set] = leases[0]
	}
	renewals := &renewalCalls{}
	f.rdb.AddHook(renewals)
	eventually(t, "three renewals", func() bool { return len(renewals.calls()) >= 3 })
	for i, sets := range renewals.calls() {
		if !slices.Equal(sets, want) {
			t.Errorf("renewal %d named %q, want both kinds of lease %q in one call", i, sets, want)
		}
	}
	for set, lease := range taken {
		if score := rdb.ZScore(ctx, set, lease.Member.(string)).Val(); score <= lease.Score {
			t.Errorf("the lease in %s was not renewed: expiry %v, taken with %v", set, score, lease.Score)
		}
	}
}
