package main

import (
	"context"
	"fmt"
	"github.com/falproxy/falproxy/internal/chat"
	"log/slog"
	"time"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/shutdown"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/teams"
)

// keyVersionTimeout is how long a request that could spend waits for its
// key's version; 0: the gate's default. Only the tests change it, so
// that a change they make applies to their next request on a machine
// slowed by other tests as well.
var keyVersionTimeout time.Duration

// teamsParts are the store, gate and prices serve runs with when virtual
// keys are in play; the zero value (no store) changes nothing.
type teamsParts struct {
	store  *store.Store
	gate   *teams.Gate
	prices *pricing.Catalog
	admin  string
	fal    *fal.Client // set by wire, before any price is asked for
	// limits are the virtual keys' limits shared through the fleet's
	// Redis; nil without REDIS_URL, where they stay in process.
	limits *fleet.Limits
}

// openTeams opens the store when DATABASE_URL or ADMIN_KEY is set and
// runs its migrations; otherwise falproxy keeps no database. With a fleet
// (REDIS_URL) the virtual keys' limits are shared by its replicas.
func openTeams(ctx context.Context, cfg *config.Config, log *slog.Logger, fl *fleet.Fleet) (*teamsParts, error) {
	url := cfg.StoreURL()
	if url == "" {
		return &teamsParts{}, nil
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, &exitCode{1, fmt.Errorf("falproxy: the database of DATABASE_URL: %s", cfg.Redact(err.Error()))}
	}
	st.LogTo(log)
	var file map[string]pricing.Price
	if cfg.PricesFile != "" {
		if file, err = pricing.LoadFile(cfg.PricesFile); err != nil {
			_ = st.Close()
			return nil, &exitCode{2, fmt.Errorf("falproxy: PRICES_FILE: %w", err)}
		}
	}
	t := &teamsParts{store: st, admin: cfg.AdminKey}
	opt := teams.Options{Store: st, Logger: log, VersionTimeout: keyVersionTimeout}
	if fl != nil {
		t.limits = fleet.NewLimits(fl)
		opt.Limits = t.limits
	}
	t.gate = teams.New(opt)
	get := pricing.WithKey(nil, cfg.FalAdminKey)
	if cfg.FalAdminKey == "" {
		// The pool's keys in turn, through the fal client wire is given.
		get = func(ctx context.Context, url string) ([]byte, error) { return t.fal.PlatformGet(ctx, url) }
	}
	t.prices = pricing.NewCatalog(pricing.Options{APIURL: cfg.APIURL, Get: get, File: file, Logger: log})
	return t, nil
}

// wire hands the parts to the server options and the ledger's drop count
// to the metrics, and takes the fal client prices are fetched with.
func (t *teamsParts) wire(opt *server.Options) {
	if t.gate != nil {
		t.fal = opt.Fal
		opt.Gate, opt.Prices, opt.AdminKey = t.gate, t.prices, t.admin
		opt.Metrics.WatchLedger(t.gate.LedgerDropped)
	}
}

// close writes the ledger rows still queued and closes the store.
func (t *teamsParts) close(log *slog.Logger) {
	if t.gate == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdown.LedgerDrain)
	defer cancel()
	if lost := t.gate.Close(ctx); lost > 0 {
		log.Error("usage ledger rows could not be written before shutdown", "rows", lost)
	}
	_ = t.store.Close()
}

// pricedEndpoints are the fal endpoints whose prices serve fetches at
// start-up: every configured model's, and the LLM endpoints that bill
// chat, Responses and embeddings.
func (a *app) pricedEndpoints() []string {
	out := a.warmEndpoints()
	for _, m := range a.cfg.VideoModels {
		out = append(out, m.Text)
	}
	if len(a.cfg.ChatModels) > 0 {
		out = append(out, a.cfg.ChatBackend.String())
	}
	if len(a.cfg.ChatModels)+len(a.cfg.EmbeddingModels) > 0 {
		out = append(out, chat.Passthrough.String())
	}
	return out
}
