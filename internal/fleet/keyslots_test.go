package fleet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/fleet/redistest"
)

// tryAcquire takes a slot of the key tagged "k1" out of max, failing the
// test on an error.
func tryAcquire(t *testing.T, s *KeySlots, max int) (func(), bool) {
	t.Helper()
	release, ok, err := s.TryAcquire("k1", max)
	if err != nil {
		t.Fatal(err)
	}
	return release, ok
}

func TestKeySlotsCountAcrossReplicas(t *testing.T) {
	r := redistest.Start(t)
	a := NewKeySlots(open(t, r.URL(), Options{}))
	b := NewKeySlots(open(t, r.URL(), Options{}))

	releaseA, okA := tryAcquire(t, a, 2)
	_, okB := tryAcquire(t, b, 2)
	if !okA || !okB {
		t.Fatal("two slots of two expected")
	}
	if _, ok := tryAcquire(t, a, 2); ok {
		t.Fatal("a third slot of two was given")
	}
	releaseA()
	if _, ok := tryAcquire(t, b, 2); !ok {
		t.Fatal("the slot a released did not come back")
	}
	if ttl := r.Client().PTTL(context.Background(), "falproxy:keyslots:k1").Val(); ttl <= 0 {
		t.Errorf("the leases' set has no expiry (PTTL %v)", ttl)
	}
}

func TestKeySlotsOfADeadReplicaExpire(t *testing.T) {
	r := redistest.Start(t)
	const ttl = 600 * time.Millisecond
	holder := open(t, r.URL(), Options{LeaseTTL: ttl})
	dying := NewKeySlots(holder)
	other := NewKeySlots(open(t, r.URL(), Options{LeaseTTL: ttl}))
	if _, ok := tryAcquire(t, dying, 1); !ok {
		t.Fatal("no slot at first")
	}
	// A live holder renews its lease beyond the TTL.
	rdb := r.Client()
	set := "falproxy:keyslots:k1"
	first := rdb.ZRangeWithScores(context.Background(), set, 0, 0).Val()[0]
	eventually(t, "the lease is renewed", func() bool {
		return rdb.ZScore(context.Background(), set, first.Member.(string)).Val() > first.Score
	})
	if _, ok := tryAcquire(t, other, 1); ok {
		t.Fatal("a renewed lease's slot was given to another replica")
	}
	// The holder dies without releasing: its lease is no longer renewed,
	// and expires a TTL after its last renewal at the latest (+ 0.5 s for
	// a loaded machine).
	killed := time.Now()
	_ = holder.Close()
	within(t, "the dead holder's slot comes back", killed, ttl+ttl/3+500*time.Millisecond, func() bool {
		_, ok := tryAcquire(t, other, 1)
		return ok
	})
}

func TestKeySlotsOutageFallsBackToShare(t *testing.T) {
	r := redistest.Start(t)
	s := NewKeySlots(open(t, r.URL(), Options{Replicas: 3}))
	running, ok := tryAcquire(t, s, 2) // runs across the outage
	if !ok {
		t.Fatal("no slot with Redis up")
	}
	r.Stop()
	for range failuresDown {
		if _, _, err := s.TryAcquire("k1", 2); err == nil {
			t.Fatal("a slot was counted with Redis stopped")
		}
	}
	if _, _, err := s.TryAcquire("k1", 2); !errors.Is(err, errUnavailable) {
		t.Fatalf("while down = %v, want errUnavailable at once", err)
	}
	if got := s.Share(7); got != 2 {
		t.Errorf("share of 7 over 3 replicas = %d, want 2", got)
	}
	r.Restart() // empty: the running job's lease is written back
	eventually(t, "the shared count answers again", func() bool {
		_, ok, err := s.TryAcquire("k1", 2)
		return err == nil && ok
	})
	if _, ok := tryAcquire(t, s, 2); ok {
		t.Fatal("the slot of the job running across the outage was not written back")
	}
	running()
	if _, ok := tryAcquire(t, s, 2); !ok {
		t.Fatal("the written back slot did not come back when its job ended")
	}
}
