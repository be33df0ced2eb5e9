package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/metrics"
	"github.com/falproxy/falproxy/internal/server"
)

// warmDeadline bounds the schema warm-up, which runs beside serving so that
// a slow or unreachable fal never delays start-up.
const warmDeadline = 10 * time.Second

// keyRecheckEvery is how often quarantined fal keys are probed.
const keyRecheckEvery = time.Minute

// serveHooks lets demo (and tests) adjust a serve run.
type serveHooks struct {
	overrides map[string]string // win over the environment and .env
	listening func(base string) // called once the listener is open
}

// loadConfig reads .env from the working directory, then the environment
// (which wins), then any overrides.
func loadConfig(environ func(string) (string, bool), overrides map[string]string) (*config.Config, error) {
	dotenv, err := config.LoadDotEnv(".env")
	if err != nil {
		return nil, &exitCode{2, err}
	}
	getenv := config.Lookup(dotenv, environ)
	cfg, err := config.Load(func(name string) string {
		if v, ok := overrides[name]; ok {
			return v
		}
		return getenv(name)
	})
	if err != nil {
		return nil, &exitCode{2, err}
	}
	return cfg, nil
}

func serve(ctx context.Context, environ func(string) (string, bool), stdout, stderr io.Writer, hooks *serveHooks) error {
	if hooks == nil {
		hooks = &serveHooks{}
	}
	cfg, err := loadConfig(environ, hooks.overrides)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg)
	app := newApp(cfg, log)

	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("falproxy: listen on %s: %w", cfg.Addr(), err)
	}
	// Request contexts derive from base; cancelling it after the shutdown
	// grace period makes every handler still running cancel its fal jobs.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	baseURL := "http://" + ln.Addr().String()
	log.Info("falproxy listening", "addr", ln.Addr().String(), "image_models", len(cfg.ImageModels), "fal_keys", len(cfg.FalKeys))
	if hooks.listening != nil {
		hooks.listening(baseURL)
	}
	warmCtx, cancelWarm := context.WithTimeout(ctx, warmDeadline)
	defer cancelWarm()
	go app.schemas.Warm(warmCtx, app.imageEndpoints())
	go app.fal.RecheckKeys(ctx, keyRecheckEvery)

	select {
	case err := <-served:
		return fmt.Errorf("falproxy: serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", cfg.ShutdownGrace)
	graceCtx, cancelGrace := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancelGrace()
	if err := srv.Shutdown(graceCtx); err != nil {
		// Grace is over: cancel what is left, which cancels its fal jobs,
		// and give those cancel calls a moment to go out.
		log.Warn("grace period over, cancelling in-flight requests")
		cancelBase()
		finalCtx, cancelFinal := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancelFinal()
		if err := srv.Shutdown(finalCtx); err != nil {
			_ = srv.Close()
		}
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// app is a built falproxy: its handler and the parts serve needs.
type app struct {
	cfg     *config.Config
	handler http.Handler
	schemas *falschema.Store
	fal     *fal.Client
}

func newApp(cfg *config.Config, log *slog.Logger) *app {
	hc := fal.NewHTTPClient()
	if onLoopback(cfg.QueueURL) && onLoopback(cfg.RunURL) && onLoopback(cfg.OpenAPIURL) {
		hc = fal.NewLoopbackHTTPClient() // the emulator: HTTP/2 as with fal
	}
	pool := fal.NewPool(cfg.FalKeys, fal.PoolOptions{Concurrency: cfg.KeyConcurrency})
	schemas := falschema.NewStore(falschema.StoreOptions{URL: cfg.OpenAPIURL, HTTP: hc, TTL: cfg.SchemaTTL, Logger: log})
	var m *metrics.Metrics
	if cfg.MetricsEnabled {
		m = metrics.New(pool, schemas)
	}
	client := fal.New(fal.Options{QueueURL: cfg.QueueURL, RunURL: cfg.RunURL, StorageURL: cfg.StorageURL, Pool: pool, HTTP: hc, Logger: log, Observer: m})
	models := make([]server.ImageModel, 0, len(cfg.ImageModels))
	for _, m := range cfg.ImageModels {
		models = append(models, server.ImageModel{Alias: m.Alias, Endpoint: m.Endpoint})
	}
	chatModels := make([]server.ChatModel, 0, len(cfg.ChatModels))
	for _, m := range cfg.ChatModels {
		chatModels = append(chatModels, server.ChatModel{Alias: m.Alias, Model: m.Model})
	}
	h := server.New(server.Options{
		AccessKeys:        cfg.AccessKeys,
		ImageModels:       models,
		DefaultImageModel: cfg.DefaultImageModel,
		AllowAnyEndpoint:  cfg.AllowAnyEndpoint,
		CORSOrigins:       cfg.CORSOrigins,
		SafetyChecker:     cfg.SafetyChecker,
		RequestTimeout:    cfg.RequestTimeout,
		MaxBodyBytes:      cfg.MaxBodyBytes,
		BodyReadTimeout:   cfg.BodyReadTimeout,
		MaxInflight:       cfg.MaxInflight,
		AdmissionWait:     cfg.AdmissionWait,
		Metrics:           m,
		ChatModels:        chatModels,
		ChatBackend:       cfg.ChatEndpoint,
		ChatLimits:        chat.Limits{Prompt: cfg.PromptLimit, System: cfg.SystemPromptLimit, Separator: cfg.PromptSeparator},
		Debug:             cfg.Debug,
		Playground:        cfg.PlaygroundEnabled,
		Fal:               client,
		Downloader:        fal.NewDownloader(fal.DownloaderOptions{AllowPrivate: onLoopback(cfg.QueueURL)}),
		Schemas:           schemas,
		Logger:            log,
		Redact:            cfg.Redact,
	})
	return &app{cfg: cfg, handler: h, schemas: schemas, fal: client}
}

func (a *app) imageEndpoints() []string {
	out := make([]string, 0, len(a.cfg.ImageModels))
	for _, m := range a.cfg.ImageModels {
		out = append(out, m.Endpoint)
	}
	return out
}

// onLoopback reports whether a base URL points at this machine, as the
// emulator does; only then may result media come from loopback addresses.
func onLoopback(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
