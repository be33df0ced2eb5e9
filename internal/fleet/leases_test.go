package fleet

import (
	"context"
	"sync"
	"testing"

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
	s := newLeaseSet(open(t, r.URL(), Options{}), 0)
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

// TestLeasesWrittenBackAfterAnOutage: the leases of requests running
// across an outage (virtual keys' and fal keys' alike, and virtual keys'
// admitted on the replica's share during it) are in Redis again when it
// answers, even if it restarted empty.
func TestLeasesWrittenBackAfterAnOutage(t *testing.T) {
	r := redistest.Start(t)
	f := open(t, r.URL(), Options{})
	l := NewLimits(f, LimitsOptions{})
	slots := NewKeySlots(f, 0)
	done, ok, _ := l.Acquire("vk", 3)
	if !ok {
		t.Fatal("no virtual key slot")
	}
	defer done()
	release, ok := tryAcquire(t, slots, 3)
	if !ok {
		t.Fatal("no fal key slot")
	}
	defer release()
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
