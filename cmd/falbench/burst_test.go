package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestBurstRunsAllAtOnce(t *testing.T) {
	const n = 20
	var running, peak atomic.Int64
	release := make(chan struct{})
	arrived := make(chan struct{}, n)
	go func() {
		for range n {
			<-arrived
		}
		close(release) // only once every request is in flight
	}()
	times, err := burst(context.Background(), n, func(context.Context) error {
		r := running.Add(1)
		for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
		}
		arrived <- struct{}{}
		<-release
		running.Add(-1)
		return nil
	})
	if err != nil || len(times) != n {
		t.Fatalf("burst: %d times, %v", len(times), err)
	}
	if peak.Load() != n {
		t.Errorf("peak concurrency %d, want %d", peak.Load(), n)
	}
}

func TestBurstReportsFailures(t *testing.T) {
	boom := errors.New("boom")
	var i atomic.Int64
	times, err := burst(context.Background(), 10, func(context.Context) error {
		if i.Add(1)%2 == 0 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || len(times) != 5 {
		t.Fatalf("burst: %d times, %v; want 5 and boom", len(times), err)
	}
	if want := "5 of 10 requests failed"; err.Error()[:len(want)] != want {
		t.Errorf("error %q does not start with %q", err, want)
	}
}
