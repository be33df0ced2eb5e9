package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// burst starts n copies of f at once and returns each successful one's
// time from its own start to its end. If any failed, the error says how
// many and carries the first.
func burst(ctx context.Context, n int, f func(ctx context.Context) error) ([]time.Duration, error) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		times  = make([]time.Duration, 0, n)
		failed int
		first  error
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			err := f(ctx)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if failed++; first == nil {
					first = err
				}
				return
			}
			times = append(times, d)
		})
	}
	close(start)
	wg.Wait()
	if failed > 0 {
		return times, fmt.Errorf("%d of %d requests failed, the first with: %w", failed, n, first)
	}
	return times, nil
}
