package fal

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// heardRest is one call of KeyHealthSharer.Rested.
type heardRest struct {
	tag      string
	until    time.Time
	reason   string
	rejected bool
}

// rememberedRests records what a pool tells the fleet.
type rememberedRests struct {
	mu    sync.Mutex
	heard []heardRest
}

func (r *rememberedRests) Rested(tag string, until time.Time, reason string, rejected bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heard = append(r.heard, heardRest{tag, until, reason, rejected})
}

func (r *rememberedRests) take() []heardRest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.heard
	r.heard = nil
	return out
}

func TestPoolSharesItsRests(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	shared := &rememberedRests{}
	p := NewPool([]string{"a", "b"}, PoolOptions{Now: clk.now, Quarantine: time.Minute, Shared: shared})
	a, b := p.keys[0], p.keys[1]

	p.report(a, http.StatusTooManyRequests, 30*time.Second)
	p.report(a, http.StatusTooManyRequests, 5*time.Second) // shorter: nothing new to say
	p.report(b, http.StatusForbidden, 0)
	p.report(a, http.StatusInternalServerError, 0) // says nothing about the key's rest
	got := shared.take()
	want := []heardRest{
		{a.TagString(), clk.t.Add(30 * time.Second), "rate limited (429)", false},
		{b.TagString(), clk.t.Add(time.Minute), "rejected by fal (Forbidden)", true},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("shared %+v, want %+v", got, want)
	}

	p.reinstate(b)
	if got := shared.take(); len(got) != 1 || got[0].tag != b.TagString() || !got[0].until.IsZero() {
		t.Fatalf("a re-checked key was shared as %+v, want its recovery (zero until)", got)
	}
}

func TestPoolAppliesRestFromAnotherReplica(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	shared := &rememberedRests{}
	p := NewPool([]string{"a", "b"}, PoolOptions{Now: clk.now, Shared: shared})
	a, b := p.keys[0], p.keys[1]

	p.ApplyRest(b.TagString(), clk.t.Add(20*time.Second), "rate limited (429)", false)
	p.ApplyRest("0011223344556677", clk.t.Add(time.Hour), "a key this replica lacks", true)
	for range 4 {
		k, _, _ := p.acquire(nil)
		if k != a {
			t.Fatalf("got %v, want only a while b rests on another replica's word", k)
		}
		p.release(k)
	}
	if s := p.States()[1]; s.Healthy || s.Reason != "rate limited (429) (seen by another replica)" {
		t.Fatalf("b's state = %+v", s)
	}
	if got := shared.take(); len(got) != 0 {
		t.Fatalf("a rest from another replica was shared again: %+v", got)
	}

	p.ApplyRest(b.TagString(), time.Time{}, "", false)
	if p.States()[1].Healthy {
		t.Fatal("another replica's recovery of a quarantined key ended a rate limit")
	}
	p.ApplyRest(a.TagString(), clk.t.Add(time.Minute), "rejected by fal (Unauthorized)", true)
	if !errors.Is(p.noKeyReason(), ErrNoKey) || len(p.quarantined()) != 1 {
		t.Fatalf("a quarantine from another replica is not a quarantine here: %v", p.quarantined())
	}
	p.ApplyRest(a.TagString(), time.Time{}, "", false)
	if !p.States()[0].Healthy {
		t.Fatal("another replica's recovery did not put the quarantined key back")
	}
}

// countedSlots is a fleet-wide count of slots as several pools see it;
// down makes it unreachable.
type countedSlots struct {
	mu    sync.Mutex
	taken map[string]int
	down  bool
	calls int
	share int
	held  int // jobs on the share
}

func (c *countedSlots) TryAcquire(tag string, max int) (func(), bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.down {
		return nil, false, errors.New("unreachable")
	}
	if c.taken[tag] >= max {
		return nil, false, nil
	}
	c.taken[tag]++
	return func() {
		c.mu.Lock()
		c.taken[tag]--
		c.mu.Unlock()
	}, true, nil
}

func (c *countedSlots) Share(int) int { return c.share }

// Hold counts the jobs on the share, for the count to take in when it is
// back.
func (c *countedSlots) Hold(string) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held++
	return func() {
		c.mu.Lock()
		c.held--
		c.mu.Unlock()
	}
}

func (c *countedSlots) set(down bool) {
	c.mu.Lock()
	c.down = down
	c.mu.Unlock()
}

func TestPoolAcquireUsesFleetSlots(t *testing.T) {
	slots := &countedSlots{taken: map[string]int{}, share: 1}
	one := NewPool([]string{"a"}, PoolOptions{Concurrency: 2, Slots: slots})
	other := NewPool([]string{"a"}, PoolOptions{Concurrency: 2, Slots: slots})

	k1, _, _ := one.acquire(nil)
	k2, _, _ := other.acquire(nil)
	if k1 == nil || k2 == nil {
		t.Fatal("two slots of the fleet's two expected")
	}
	if k, busy, _ := one.acquire(nil); k != nil || !busy {
		t.Fatalf("a third job in the fleet = (%v, busy %v), want busy", k, busy)
	}
	other.release(k2)
	k3, _, _ := one.acquire(nil)
	if k3 == nil {
		t.Fatal("the slot another replica released did not come back")
	}
	one.release(k1)
	one.release(k3)

	// Unreachable: each pool keeps to its share, one slot.
	slots.set(true)
	if k, _, _ := one.acquire(nil); k == nil {
		t.Fatal("no slot on the share while the count is unreachable")
	}
	if k, busy, _ := one.acquire(nil); k != nil || !busy {
		t.Fatalf("a second job beyond the share = (%v, busy %v), want busy", k, busy)
	}
	if slots.held != 1 {
		t.Fatalf("%d jobs on the share held for the count, want 1", slots.held)
	}
	// Back: the fleet's count decides again.
	slots.set(false)
	k4, _, _ := one.acquire(nil)
	if k4 == nil {
		t.Fatal("no slot from the fleet's count once it answers again")
	}
	if slots.taken[k4.TagString()] != 1 {
		t.Fatalf("the fleet counts %d slots, want 1", slots.taken[k4.TagString()])
	}
	one.release(k4) // the job on the fleet's count
	one.release(k4) // the job on the share, still running
	if slots.taken[k4.TagString()] != 0 || k4.fallback != 0 || slots.held != 0 {
		t.Fatalf("after release: fleet %d, share %d, held %d, want 0, 0 and 0", slots.taken[k4.TagString()], k4.fallback, slots.held)
	}

	calls := slots.calls
	free := NewPool([]string{"a"}, PoolOptions{Slots: slots})
	k, _, _ := free.acquire(nil)
	free.release(k)
	if slots.calls != calls {
		t.Fatal("a pool without KEY_CONCURRENCY asked the fleet's count")
	}
}

// TestForgetRest: only a quarantine heard from another replica is
// forgotten when the fleet no longer holds it; one this replica found
// waits for its own re-check, and a rate limit passes by itself.
func TestForgetRest(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	p := NewPool([]string{"own", "heard", "limited"}, PoolOptions{Now: clk.now, Quarantine: time.Minute})
	own, heard, limited := p.keys[0], p.keys[1], p.keys[2]
	p.report(own, http.StatusUnauthorized, 0)
	p.ApplyRest(heard.TagString(), clk.t.Add(time.Hour), "rejected by fal (Unauthorized)", true)
	p.ApplyRest(limited.TagString(), clk.t.Add(time.Hour), "rate limited (429)", false)
	for _, k := range p.keys {
		p.ForgetRest(k.TagString())
	}
	if !own.rejected {
		t.Error("this replica's own quarantine was forgotten")
	}
	if heard.rejected || !heard.until.IsZero() {
		t.Error("the quarantine heard from another replica was kept")
	}
	if limited.until.IsZero() {
		t.Error("a rate limit was forgotten")
	}
}

// TestWaitKeyBacksOffWhileTheFleetRefuses: a call waiting for a slot the
// fleet's count refuses asks the count again every 100-250 ms, not every
// few milliseconds: each ask is a Redis round trip.
func TestWaitKeyBacksOffWhileTheFleetRefuses(t *testing.T) {
	slots := &countedSlots{taken: map[string]int{}, share: 1}
	other := NewPool([]string{"a"}, PoolOptions{Concurrency: 1, Slots: slots})
	if k, _, _ := other.acquire(nil); k == nil {
		t.Fatal("no slot for the other replica")
	}
	p := NewPool([]string{"a"}, PoolOptions{Concurrency: 1, Slots: slots})
	c := New(Options{Pool: p, KeyWait: time.Second})
	start := time.Now()
	if _, err := c.waitKey(context.Background(), OpSubmit, map[*Key]bool{}); err == nil {
		t.Fatal("a slot the fleet has given away was taken")
	}
	waited := time.Since(start)
	slots.mu.Lock()
	calls := slots.calls - 1 // the other replica's
	slots.mu.Unlock()
	// One ask, then one per pause of at least 100 ms.
	if most := 1 + int(waited/fleetPause); calls > most {
		t.Errorf("asked the fleet's count %d times in %v, want at most %d", calls, waited, most)
	}
}
