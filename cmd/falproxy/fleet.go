package main

import (
	"context"
	"log/slog"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/metrics"
	"github.com/falproxy/falproxy/internal/server"
)

// openFleet links this replica to the fleet's Redis when REDIS_URL is set;
// nil without it. With REDIS_REQUIRED a Redis that does not answer stops
// the start; otherwise the replica starts on local limits.
func openFleet(ctx context.Context, cfg *config.Config, log *slog.Logger) (*fleet.Fleet, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	f, err := fleet.Open(ctx, fleet.Options{URL: cfg.RedisURL, Required: cfg.RedisRequired, Replicas: cfg.Replicas, Logger: log})
	if err != nil {
		return nil, &exitCode{1, err}
	}
	return f, nil
}

// newPool builds the pool of fal keys. In a fleet, a key's rests are
// shared with every replica and KEY_CONCURRENCY counts the key's jobs
// across all of them.
func newPool(cfg *config.Config, fl *fleet.Fleet) *fal.Pool {
	opt := fal.PoolOptions{Concurrency: cfg.KeyConcurrency}
	if fl == nil {
		return fal.NewPool(cfg.FalKeys, opt)
	}
	health := fleet.NewKeyHealth(fl)
	opt.Shared = health
	if cfg.KeyConcurrency > 0 {
		opt.Slots = fleet.NewKeySlots(fl)
	}
	pool := fal.NewPool(cfg.FalKeys, opt)
	health.Follow(pool)
	return pool
}

// wireFleet hands the fleet to the server, for /health and REDIS_REQUIRED,
// and its status to the metrics; limits, when not nil, are the shared
// virtual key limits whose fallbacks are counted.
func wireFleet(opt *server.Options, fl *fleet.Fleet, limits *fleet.Limits) {
	if fl == nil {
		return
	}
	opt.Fleet = fl
	fallbacks := func() uint64 { return 0 }
	if limits != nil {
		fallbacks = limits.Fallbacks
	}
	opt.Metrics.WatchFleet(metrics.FleetView{Up: fl.Up, Replicas: fl.Replicas, Fallbacks: fallbacks, Errors: fl.Errors})
}
