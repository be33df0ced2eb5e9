package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/teams"
)

// ledgerDrain bounds how long shutdown waits for the last ledger rows to
// be written.
const ledgerDrain = 15 * time.Second

// teamsParts are the store, gate and prices serve runs with when virtual
// keys are in play; the zero value (no store) changes nothing.
type teamsParts struct {
	store  *store.Store
	gate   *teams.Gate
	prices *pricing.Catalog
	admin  string
}

// openTeams opens the store when DATABASE_URL or ADMIN_KEY is set and
// runs its migrations; otherwise falproxy keeps no database.
func openTeams(ctx context.Context, cfg *config.Config, log *slog.Logger) (*teamsParts, error) {
	url := cfg.StoreURL()
	if url == "" {
		return &teamsParts{}, nil
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, &exitCode{1, fmt.Errorf("falproxy: the database of DATABASE_URL: %s", cfg.Redact(err.Error()))}
	}
	var file map[string]pricing.Price
	if cfg.PricesFile != "" {
		if file, err = pricing.LoadFile(cfg.PricesFile); err != nil {
			_ = st.Close()
			return nil, &exitCode{2, fmt.Errorf("falproxy: PRICES_FILE: %w", err)}
		}
	}
	prices := pricing.NewCatalog(pricing.Options{APIURL: cfg.APIURL, Key: cfg.FalKeys[0], File: file, Logger: log})
	return &teamsParts{store: st, gate: teams.New(teams.Options{Store: st, Logger: log}), prices: prices, admin: cfg.AdminKey}, nil
}

// wire hands the parts to the server options.
func (t *teamsParts) wire(opt *server.Options) {
	if t.gate != nil {
		opt.Gate, opt.Prices, opt.AdminKey = t.gate, t.prices, t.admin
	}
}

// close writes the ledger rows still queued and closes the store.
func (t *teamsParts) close(log *slog.Logger) {
	if t.gate == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), ledgerDrain)
	defer cancel()
	if lost := t.gate.Close(ctx); lost > 0 {
		log.Error("usage ledger rows could not be written before shutdown", "rows", lost)
	}
	_ = t.store.Close()
}

// pricedEndpoints are the fal endpoints whose prices serve fetches at
// start-up: every configured model's.
func (a *app) pricedEndpoints() []string {
	out := a.warmEndpoints()
	for _, m := range a.cfg.VideoModels {
		out = append(out, m.Text)
	}
	for _, m := range a.cfg.ChatModels {
		out = append(out, m.Model)
	}
	for _, m := range a.cfg.EmbeddingModels {
		out = append(out, m.Model)
	}
	return out
}
