package main

import (
	"context"
	"fmt"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// pairedTimes runs the common series of the latency scenarios: it warms
// up the proxy side, takes the proxy's latest call of kind op to fal,
// builds the direct side from it (so that both ask fal for the same
// work), warms that up, and interleaves n pairs. It returns each side's
// first observation per pair.
func (b *bench) pairedTimes(ctx context.Context, st *stack, n int, proxy side, op falfake.Op, direct func(falfake.Call) side) (pt, dt []time.Duration, err error) {
	if err := warm(ctx, b.plan.warm, proxy); err != nil {
		return nil, nil, fmt.Errorf("%w: warm-up: %w", errFunctional, err)
	}
	call, err := st.proxyCall(op)
	if err != nil {
		return nil, nil, err
	}
	d := direct(call)
	if err := warm(ctx, b.plan.warm, d); err != nil {
		return nil, nil, fmt.Errorf("%w: direct warm-up: %w", errFunctional, err)
	}
	out, err := interleave(ctx, n, proxy, d)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errFunctional, err)
	}
	return column(out[0], 0), column(out[1], 0), nil
}
