package fal

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestPoolRoundRobinSkipsUnhealthy(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	p := NewPool([]string{"a", "b", "c"}, PoolOptions{Now: clk.now, Cooldown: 10 * time.Second, Quarantine: time.Minute})
	a, b, c := p.keys[0], p.keys[1], p.keys[2]

	seen := map[*Key]int{}
	for range 6 {
		k, _, _ := p.acquire(nil)
		seen[k]++
		p.release(k)
	}
	if seen[a] != 2 || seen[b] != 2 || seen[c] != 2 {
		t.Fatalf("round robin uneven: %v", seen)
	}

	p.report(b, http.StatusTooManyRequests, 3*time.Second)
	p.report(c, http.StatusUnauthorized, 0)
	for range 4 {
		k, _, _ := p.acquire(nil)
		if k != a {
			t.Fatalf("got %v, want only the healthy key", k)
		}
		p.release(k)
	}
	if k, busy, wait := p.acquire(map[*Key]bool{a: true}); k != nil || busy || wait != 3*time.Second {
		t.Fatalf("acquire without a = (%v, %v), want (nil, 3s)", k, wait)
	}

	clk.t = clk.t.Add(4 * time.Second) // b's Retry-After has passed, c still quarantined
	if k, _, _ := p.acquire(map[*Key]bool{a: true}); k != b {
		t.Fatalf("got %v, want b back after its cool-down", k)
	}
	states := p.States()
	if states[2].Healthy || !strings.Contains(states[2].Reason, "Unauthorized") {
		t.Fatalf("c state = %+v", states[2])
	}
}

func TestPoolConcurrencyCap(t *testing.T) {
	p := NewPool([]string{"a"}, PoolOptions{Concurrency: 2})
	k1, _, _ := p.acquire(nil)
	k2, _, _ := p.acquire(nil)
	if k1 == nil || k2 == nil {
		t.Fatal("two slots expected")
	}
	if k3, busy, wait := p.acquire(nil); k3 != nil || !busy || wait != 0 {
		t.Fatalf("third acquire = (%v, %v), want busy", k3, wait)
	}
	if got := k1.Inflight(); got != 2 {
		t.Fatalf("inflight = %d", got)
	}
	p.release(k1)
	if k3, _, _ := p.acquire(nil); k3 == nil {
		t.Fatal("slot not returned")
	}
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	p := NewPool([]string{"supersecret-key:abcdef"}, PoolOptions{})
	k := p.keys[0]
	for _, s := range []string{k.String(), k.ID()} {
		if strings.Contains(s, "supersecret") || strings.Contains(s, "abcdef") {
			t.Fatalf("%q reveals the secret", s)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"-1":                            0,
		"Thu, 01 Jan 2026 00:00:07 GMT": 7 * time.Second,
		"soon":                          0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestWaitKeyWaitsForBusyKeyBesideCoolingOne: one key rests after a 429,
// the other is at its concurrency cap; a call waits for the busy key's
// slot instead of failing at once.
func TestWaitKeyWaitsForBusyKeyBesideCoolingOne(t *testing.T) {
	p := NewPool([]string{"a", "b"}, PoolOptions{Concurrency: 1})
	c := New(Options{Pool: p, KeyWait: 10 * time.Second})
	p.report(p.keys[0], http.StatusTooManyRequests, time.Minute)
	held, _, _ := p.acquire(nil)
	if held != p.keys[1] {
		t.Fatalf("took %v, want the healthy key", held)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		p.release(held)
	}()
	k, err := c.waitKey(context.Background(), OpSubmit, map[*Key]bool{})
	if err != nil || k != p.keys[1] {
		t.Fatalf("waitKey = %v, %v; want the busy key once freed", k, err)
	}
}

// Key ids are exported as metric labels and logged, so they must say
// nothing about the key: they are the key's position in the list.
func TestKeyIDsAreListPositions(t *testing.T) {
	p := NewPool([]string{"fal-key-a:secret", "fal-key-b:other"}, PoolOptions{})
	states := p.States()
	if len(states) != 2 || states[0].ID != "key1" || states[1].ID != "key2" {
		t.Fatalf("key ids %+v, want key1 and key2", states)
	}
	for _, k := range p.keys {
		if strings.Contains(k.String(), "secret") || strings.Contains(k.String(), "key-a") {
			t.Fatalf("%s reveals the key", k)
		}
	}
}
