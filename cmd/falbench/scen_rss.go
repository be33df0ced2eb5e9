package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// Goals of the memory scenario: the peak above idle with the burst in
// flight, and how close to idle RSS must be settleAt after it.
const (
	peakAllowance = 48 << 20
	idleTolerance = 8 << 20
	settleAt      = 5 * time.Second
)

// runRSS measures the proxy process's resident memory idle, at its peak
// with many image jobs in flight, and after they are done.
func runRSS(ctx context.Context, b *bench) ([]section, error) {
	n, gen := b.plan.rssN, b.plan.rssGen
	st, err := b.startStack(ctx, "rss", falfake.Options{GenerationTime: gen}, nil, n+50)
	if err != nil {
		return nil, err
	}
	defer st.close()
	pid := st.proxy.pid()
	if err := st.client.image(ctx, imageBody); err != nil {
		return nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	time.Sleep(time.Second)
	idle, err := readMemory(pid)
	if err != nil {
		return nil, err
	}
	b.logf("  %d image requests in flight (generation %s); idle RSS %s", n, secs(gen), mib(idle.rss))
	stop := make(chan struct{})
	var sampled int64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if m, err := readMemory(pid); err == nil {
					sampled = max(sampled, m.rss)
				}
			}
		}
	})
	_, berr := burst(ctx, n, func(ctx context.Context) error { return st.client.image(ctx, imageBody) })
	close(stop)
	wg.Wait()
	if berr != nil {
		return nil, fmt.Errorf("%w: %w", errFunctional, berr)
	}
	peak, err := readMemory(pid)
	if err != nil {
		return nil, err
	}
	// The clients are gone: their keep-alive connections close, as they
	// would when real clients leave.
	st.client.hc.CloseIdleConnections()
	done := time.Now()
	var after []memory
	for _, at := range b.plan.rssSettle {
		time.Sleep(time.Until(done.Add(at)))
		m, err := readMemory(pid)
		if err != nil {
			return nil, err
		}
		after = append(after, m)
	}
	extra := max(peak.hwm, sampled) - idle.rss
	settled := len(after) - 1 // the reading at settleAt, or the last
	for i, at := range b.plan.rssSettle {
		if at == settleAt {
			settled = i
		}
	}
	sec := section{num: 8, title: fmt.Sprintf("Memory of the proxy process with %d image jobs in flight", n), rows: []row{
		{what: "idle RSS (after one request)", measured: mib(idle.rss), verdict: info},
		{what: fmt.Sprintf("peak RSS above idle with %d in flight (VmHWM − idle)", n), seed: "not measured",
			target: "≤ " + mib(peakAllowance), measured: fmt.Sprintf("%s (peak %s)", mib(extra), mib(max(peak.hwm, sampled))),
			verdict: check(extra <= peakAllowance)},
	}}
	for i, m := range after {
		sec.rows = append(sec.rows, row{what: fmt.Sprintf("RSS %v after the last answer", b.plan.rssSettle[i]), measured: mib(m.rss), verdict: info})
	}
	above := after[settled].rss - idle.rss
	sec.rows = append(sec.rows, row{what: "back to idle after the burst", target: fmt.Sprintf("≤ +%s after %v", mib(idleTolerance), settleAt),
		measured: fmt.Sprintf("%+.1f MiB after %v", float64(above)/(1<<20), b.plan.rssSettle[settled]),
		verdict:  check(above <= idleTolerance)})
	sec.notes = []string{
		fmt.Sprintf("A fresh falproxy process (the real binary, separate from falbench) takes %d concurrent `POST /v1/images/generations` (url answers, generation %s each). RSS is read from /proc/<pid>/status: VmRSS every 20 ms during the burst and VmHWM (the kernel's peak) after it.", n, secs(gen)),
		"An idle Go process runs no garbage collection until its periodic forced cycle (two minutes or more after the last one) and returns freed memory to the OS only after that, so RSS stays near its peak for minutes after a burst.",
	}
	return []section{sec}, nil
}
