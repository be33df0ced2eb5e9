package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/config"
)

// healthcheck asks the local proxy for /health; containers use it as their
// HEALTHCHECK so that the image needs no curl.
func healthcheck(ctx context.Context, environ func(string) (string, bool)) error {
	// PORT as serve reads it: the environment, then .env, then 8000.
	port := "8000"
	if dotenv, err := config.LoadDotEnv(".env"); err == nil {
		if v := strings.TrimSpace(config.Lookup(dotenv, environ)("PORT")); v != "" {
			port = v
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	u := "http://" + net.JoinHostPort("127.0.0.1", port) + "/health"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", u, resp.Status)
	}
	return nil
}
