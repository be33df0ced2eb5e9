package main

import (
	"context"
	"fmt"
	"time"
)

// obs is what one request measured: one or more durations, in an order
// each scenario defines (total time; or first and last token; ...).
type obs []time.Duration

// side makes one request (through the proxy, or directly) and returns its
// observations.
type side func(ctx context.Context) (obs, error)

// timed turns a request into a side whose only observation is its total
// time, taken around the whole call.
func timed(f func(ctx context.Context) error) side {
	return func(ctx context.Context) (obs, error) {
		t0 := time.Now()
		if err := f(ctx); err != nil {
			return nil, err
		}
		return obs{time.Since(t0)}, nil
	}
}

// interleave makes n rounds of one request per side, one request at a
// time. The side that starts a round rotates (with two sides: P D, D P,
// P D ...), so that no side always runs right after another. out[s] holds
// side s's observations in round order. Any failed request stops it.
func interleave(ctx context.Context, n int, sides ...side) ([][]obs, error) {
	out := make([][]obs, len(sides))
	for i := range n {
		for k := range sides {
			s := (i + k) % len(sides)
			o, err := sides[s](ctx)
			if err != nil {
				return nil, fmt.Errorf("round %d, side %d: %w", i, s, err)
			}
			out[s] = append(out[s], o)
		}
	}
	return out, nil
}
