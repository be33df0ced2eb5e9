package main

import (
	"context"
	"fmt"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// runStartup measures how soon a new falproxy process serves its first
// requests while fal's schema service accepts connections and never
// answers.
func runStartup(ctx context.Context, b *bench) ([]section, error) {
	bh, err := startBlackhole()
	if err != nil {
		return nil, err
	}
	defer bh.close()
	fake, err := falfake.New(falfake.Options{})
	if err != nil {
		return nil, err
	}
	defer fake.Close()
	env := proxyEnv(fake, map[string]string{"FAL_OPENAPI_URL": bh.url() + "/api/openapi/queue/openapi.json"})
	hc := newHTTPClient(4)
	var health, models []time.Duration
	for i := range b.plan.startRuns {
		p, err := startProxy(b.bin, b.dir, fmt.Sprintf("startup-%d", i), env)
		if err != nil {
			return nil, err
		}
		th, err := p.waitReady(ctx, hc, "/health", "", 10*time.Second)
		var tm time.Duration
		if err == nil {
			tm, err = p.waitReady(ctx, hc, "/v1/models", accessKey, 10*time.Second)
		}
		p.stop()
		hc.CloseIdleConnections()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errFunctional, err)
		}
		health, models = append(health, th), append(models, tm)
	}
	if bh.count() == 0 {
		return nil, fmt.Errorf("%w: no proxy tried to fetch a schema from the unreachable schema service", errFunctional)
	}
	timeRow := func(what string, ds []time.Duration) row {
		d := summarize(ds)
		return row{what: what + " after the process started, median / max",
			seed: "listens only after every schema fetch ends; here it never would", target: "≤ 100 ms",
			measured: fmt.Sprintf("%s / %s (n = %d)", ms(d.median), ms(quantile(ds, 1)), d.n), verdict: check(d.median <= 100*time.Millisecond)}
	}
	return []section{{num: 10, title: "Start-up with fal's schema service unreachable", rows: []row{
		timeRow("first 200 from GET /health", health),
		timeRow("first 200 from GET /v1/models (with the key)", models),
	}, notes: []string{
		"FAL_OPENAPI_URL points at a listener that accepts connections and never answers. Time runs from just before the process is started (fork and exec included) to the first 200 answer; falbench polls every 0.2 ms. The black hole did receive the proxy's schema requests.",
	}}}, nil
}
