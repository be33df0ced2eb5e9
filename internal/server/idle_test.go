package server

import (
	"sync"
	"testing"
)

// TestIdleReleaseEmptiesPools checks that the release after a burst frees
// what sync.Pools hold, as net/http's pools hold a burst's connection
// buffers: one collection only moves pooled values to the pool's victim
// cache, where they stay alive.
func TestIdleReleaseEmptiesPools(t *testing.T) {
	var pool sync.Pool
	pool.Put(new([4096]byte))
	r := newIdleRelease()
	for range burstSize {
		r.begin()
	}
	for range burstSize {
		r.inflight-- // end without arming the delayed release
	}
	r.releaseIfIdle()
	if pool.Get() != nil {
		t.Error("a pooled buffer outlived the release after a burst")
	}
}
