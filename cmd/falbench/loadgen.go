package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// load is the outcome of a closed-loop load run.
type load struct {
	ok      int64
	elapsed time.Duration
}

func (l load) perSecond() float64 { return float64(l.ok) / l.elapsed.Seconds() }

// loadGET keeps conns keep-alive connections busy with GET url (with the
// access key) for dur: each worker sends its next request as soon as the
// previous answer is read. Any answer other than 200 is an error.
func loadGET(ctx context.Context, hc *http.Client, url, key string, conns int, dur time.Duration) (load, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ok atomic.Int64
	var once sync.Once
	var failure error
	fail := func(err error) { once.Do(func() { failure = err; cancel() }) }
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					fail(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail(err)
					}
					return
				}
				drain(resp)
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("GET %s answered %d", url, resp.StatusCode))
					return
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return load{ok: ok.Load(), elapsed: time.Since(start)}, failure
}
