package main

import (
	"context"
	"fmt"

	"github.com/falproxy/falproxy/internal/falfake"
)

// loadRoutes are the routes measured for throughput, in the order they
// alternate.
var loadRoutes = []struct{ path, what string }{
	{"/v1/models", "GET /v1/models with the access key"},
	{"/health", "GET /health"},
}

// runLoad measures requests per second on the cheap routes with a closed
// loop of keep-alive connections.
func runLoad(ctx context.Context, b *bench) ([]section, error) {
	conns := b.plan.loadConns
	st, err := b.startStack(ctx, "load", falfake.Options{}, nil, conns)
	if err != nil {
		return nil, err
	}
	defer st.close()
	// A short unmeasured run opens the connections.
	if _, err := loadGET(ctx, st.client.hc, st.proxy.base+"/v1/models", accessKey, conns, b.plan.loadSlice/4); err != nil {
		return nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	totals := make([]load, len(loadRoutes))
	for r := range b.plan.loadRounds {
		b.logf("  round %d: %v per route at %d connections", r+1, b.plan.loadSlice, conns)
		for i, rt := range loadRoutes {
			l, err := loadGET(ctx, st.client.hc, st.proxy.base+rt.path, accessKey, conns, b.plan.loadSlice)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errFunctional, err)
			}
			totals[i].ok += l.ok
			totals[i].elapsed += l.elapsed
		}
	}
	sec := section{num: 7, title: fmt.Sprintf("Throughput of GET /v1/models and /health, %d connections", conns)}
	for i, rt := range loadRoutes {
		rw := row{what: rt.what + " (Go load generator in falbench)", seed: "not measured",
			measured: fmt.Sprintf("%.0f req/s", totals[i].perSecond()), verdict: info}
		if rt.path == "/v1/models" {
			rw.target, rw.verdict = "≥ 30,000 req/s", check(totals[i].perSecond() >= 30000)
		}
		sec.rows = append(sec.rows, rw)
	}
	if b.plan.wrkTime > 0 {
		for _, rt := range loadRoutes {
			rate, ok, err := runWrk(ctx, getTarget(st.proxy.base+rt.path, accessKey), b.dir, conns, b.plan.wrkTime)
			if !ok {
				sec.notes = append(sec.notes, "wrk is not installed; only the Go load generator was used.")
				break
			}
			if err != nil {
				return []section{sec}, fmt.Errorf("%w: %w", errFunctional, err)
			}
			rw := row{what: rt.what + fmt.Sprintf(" (wrk -t2 -c%d -d%v)", conns, b.plan.wrkTime), seed: "not measured",
				measured: fmt.Sprintf("%.0f req/s", rate), verdict: info}
			if rt.path == "/v1/models" {
				rw.target, rw.verdict = "≥ 30,000 req/s", check(rate >= 30000)
			}
			sec.rows = append(sec.rows, rw)
		}
	}
	sec.notes = append(sec.notes,
		fmt.Sprintf("Closed loop: each of %d workers sends its next request as soon as the previous answer is read, over keep-alive connections; %d round(s) of %v per route, the routes alternating. The load generator runs in falbench on the same 2 cores as the proxy, so it takes CPU the proxy could use: the figure is a floor, not the proxy's ceiling.", conns, b.plan.loadRounds, b.plan.loadSlice),
		"The proxy writes its access log line per request (text, to a file) as it would in production; /health logs at debug level only.")
	return []section{sec}, nil
}
