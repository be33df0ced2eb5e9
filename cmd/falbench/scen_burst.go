package main

import (
	"context"
	"fmt"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// runBurst measures latency with many image requests in flight: bursts of
// proxy requests and bursts of direct jobs, alternating.
func runBurst(ctx context.Context, b *bench) ([]section, error) {
	n, gen := b.plan.burstN, b.plan.burstGen
	st, err := b.startStack(ctx, "burst", falfake.Options{GenerationTime: gen}, nil, n+50)
	if err != nil {
		return nil, err
	}
	defer st.close()
	proxy := func(ctx context.Context) error { return st.client.image(ctx, imageBody) }
	if err := proxy(ctx); err != nil {
		return nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	call, err := st.proxyCall(falfake.OpSubmit)
	if err != nil {
		return nil, err
	}
	direct := func(ctx context.Context) error {
		r, err := st.direct.generate(ctx, call.Endpoint, call.Body)
		if err != nil {
			return err
		}
		return falImages(r)
	}
	// One unmeasured burst each opens the connections both sides reuse.
	b.logf("  warm-up bursts of %d", n)
	for _, f := range []func(context.Context) error{proxy, direct} {
		if _, err := burst(ctx, n, f); err != nil {
			return nil, fmt.Errorf("%w: warm-up burst: %w", errFunctional, err)
		}
	}
	t := &tally{fake: st.fake, direct: st.direct}
	var pt, dt []time.Duration
	for r := range b.plan.burstRounds {
		b.logf("  round %d: %d proxy and %d direct in flight", r+1, n, n)
		order := []bool{true, false}
		if r%2 == 1 {
			order = []bool{false, true}
		}
		for _, isProxy := range order {
			var times []time.Duration
			var err error
			if isProxy {
				t.marks = append(t.marks, t.proxyCalls())
				times, err = burst(ctx, n, proxy)
				pt = append(pt, times...)
			} else {
				times, err = burst(ctx, n, direct)
				dt = append(dt, times...)
			}
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errFunctional, err)
			}
		}
	}
	perRound := t.perRequest(500 * time.Millisecond)
	upstream := float64(0)
	for _, c := range perRound {
		upstream += float64(c)
	}
	upstream /= float64(len(pt))
	ps, ds := summarize(pt), summarize(dt)
	p50, p99 := ps.median-ds.median, ps.p99-ds.p99
	sec := section{num: 3, title: fmt.Sprintf("Images with %d requests in flight", n), rows: []row{
		{what: fmt.Sprintf("proxy, %d in flight, p50 / p99", n), measured: medP99(ps), verdict: info},
		{what: fmt.Sprintf("direct, %d in flight, p50 / p99", n), measured: medP99(ds), verdict: info},
		{what: "added (proxy quantile − direct quantile), p50 / p99",
			seed:     "≈ 1 s on average (2 s polling), plus a status poll per job every 2 s",
			target:   "p99 ≤ 50 ms",
			measured: ms(p50) + " / " + ms(p99),
			verdict:  check(p99 <= 50*time.Millisecond)},
		{what: "upstream requests per image, mean", seed: fmt.Sprintf("%d", seedRequests(gen)), target: "≤ 3",
			measured: fmt.Sprintf("%.2f", upstream), verdict: check(upstream <= 3)},
	}, notes: []string{
		fmt.Sprintf("Generation time %s. %d round(s): a burst of %d proxy requests started at once, then %d direct jobs (the exact input the proxy sent), the order swapping each round, after one unmeasured burst of each that opens the connections. Each request is timed from its own start.", secs(gen), b.plan.burstRounds, n, n),
		"The difference is taken quantile by quantile between the two distributions, since requests of a burst are not paired.",
	}}
	if upstream > 3 {
		return []section{sec}, fmt.Errorf("%w: %.2f upstream requests per image (at most 3 allowed)", errFunctional, upstream)
	}
	return []section{sec}, nil
}
