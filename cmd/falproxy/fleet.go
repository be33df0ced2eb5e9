package main

import (
	"context"
	"log/slog"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/fleet"
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
