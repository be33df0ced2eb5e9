package bounded

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

// keys lists the store's live keys, newest first.
func keys(s *Store[string, int], now time.Time) []string {
	var out []string
	s.Walk("", false, now, func(k string, _ int) bool { out = append(out, k); return true })
	return out
}

// TestLimits: past the count or the bytes, the oldest entry goes; with
// Recency, the least recently read; a value over the byte limit on its own
// is not kept.
func TestLimits(t *testing.T) {
	s := New[string, int](Limits{Count: 3, Bytes: 100})
	for i, k := range []string{"a", "b", "c", "d"} {
		s.Put(k, i, 10, time.Time{}, t0)
	}
	if got := keys(s, t0); !slices.Equal(got, []string{"d", "c", "b"}) {
		t.Errorf("count bound kept %v", got)
	}
	s.Put("e", 4, 90, time.Time{}, t0)
	if got := keys(s, t0); !slices.Equal(got, []string{"e", "d"}) {
		t.Errorf("byte bound kept %v", got)
	}
	s.Put("huge", 5, 101, time.Time{}, t0)
	if _, ok := s.Get("huge", t0); ok || s.Len() != 2 {
		t.Error("a value over the byte limit was kept")
	}

	lru := New[string, int](Limits{Count: 2, Recency: true})
	lru.Put("a", 1, 0, time.Time{}, t0)
	lru.Put("b", 2, 0, time.Time{}, t0)
	lru.Get("a", t0)
	lru.Put("c", 3, 0, time.Time{}, t0)
	if got := keys(lru, t0); !slices.Equal(got, []string{"c", "a"}) {
		t.Errorf("recency kept %v", got)
	}
}

// TestExpiry: an entry is gone from its expiry on, and a read of it drops
// it even when an entry that expires later was added before it (expiries
// need not follow the order of addition).
func TestExpiry(t *testing.T) {
	s := New[string, int](Limits{Count: 10})
	s.Put("late", 1, 0, t0.Add(time.Hour), t0)
	s.Put("soon", 2, 0, t0.Add(time.Minute), t0)
	now := t0.Add(2 * time.Minute)
	if _, ok := s.Get("soon", now); ok {
		t.Error("an expired entry was returned")
	}
	if s.Len() != 1 {
		t.Errorf("the expired entry is still held: %d entries", s.Len())
	}
	if got := keys(s, t0.Add(2*time.Hour)); len(got) != 0 || s.Len() != 0 {
		t.Errorf("walk after every expiry: %v, %d held", got, s.Len())
	}
}

// TestKeepAndWalk: Keep keeps the first value of a key; Walk pages from a
// cursor either way and reports a cursor the store no longer holds.
func TestKeepAndWalk(t *testing.T) {
	s := New[string, int](Limits{})
	if got := s.Keep("a", 1, 0, time.Time{}, t0); got != 1 {
		t.Fatalf("keep %d", got)
	}
	if got := s.Keep("a", 2, 0, time.Time{}, t0); got != 1 {
		t.Errorf("a second keep replaced the value: %d", got)
	}
	s.Put("b", 3, 0, time.Time{}, t0)
	s.Put("c", 4, 0, time.Time{}, t0)
	s.Update("b", func(v *int) { *v = 30 })
	var seen []int
	if !s.Walk("a", true, t0, func(_ string, v int) bool { seen = append(seen, v); return true }) || !slices.Equal(seen, []int{30, 4}) {
		t.Errorf("walk after a: %v", seen)
	}
	s.Remove("a")
	if s.Walk("a", true, t0, func(string, int) bool { return true }) {
		t.Error("a removed cursor was found")
	}
}
