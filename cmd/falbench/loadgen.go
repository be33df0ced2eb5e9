package main

import (
	"bytes"
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

// add sums two runs on the same target.
func (l *load) add(m load) {
	l.ok += m.ok
	l.elapsed += m.elapsed
}

// loadTarget is the one request a load run repeats.
type loadTarget struct {
	method, url string
	header      http.Header
	body        []byte // sent with Content-Type application/json when set
}

// getTarget is GET url with the access key.
func getTarget(url, key string) loadTarget {
	return loadTarget{method: http.MethodGet, url: url, header: http.Header{"Authorization": {"Bearer " + key}}}
}

func (t loadTarget) request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, t.method, t.url, bytes.NewReader(t.body))
	if err != nil {
		return nil, err
	}
	if t.body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	if t.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// loadGET keeps conns keep-alive connections busy with GET url (with the
// access key) for dur, as loadRun does.
func loadGET(ctx context.Context, hc *http.Client, url, key string, conns int, dur time.Duration) (load, error) {
	return loadRun(ctx, hc, getTarget(url, key), conns, dur)
}

// loadRun keeps conns keep-alive connections busy with t for dur: each
// worker sends its next request as soon as the previous answer is read.
// Any answer other than 200 is an error.
func loadRun(ctx context.Context, hc *http.Client, t loadTarget, conns int, dur time.Duration) (load, error) {
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
				req, err := t.request(ctx)
				if err != nil {
					fail(err)
					return
				}
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						fail(err)
					}
					return
				}
				drain(resp)
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("%s %s answered %d", t.method, t.url, resp.StatusCode))
					return
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return load{ok: ok.Load(), elapsed: time.Since(start)}, failure
}
