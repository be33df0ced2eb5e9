package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/metrics"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/shutdown"
)

// warmDeadline bounds the schema warm-up, which runs beside serving so that
// a slow or unreachable fal never delays start-up.
const warmDeadline = 10 * time.Second

// keyRecheckEvery is how often quarantined fal keys are probed.
const keyRecheckEvery = time.Minute

// serveHooks lets demo (and tests) adjust a serve run.
type serveHooks struct {
	overrides map[string]string                     // win over the environment and .env
	listening func(base string, cfg *config.Config) // called once the listener is open
}

// configEnv reads variables from .env in the working directory, then from
// the environment, which wins.
func configEnv(environ func(string) (string, bool)) (func(string) string, error) {
	dotenv, err := config.LoadDotEnv(".env")
	if err != nil {
		return nil, &exitCode{2, err}
	}
	return config.Lookup(dotenv, environ), nil
}

// loadConfig reads .env from the working directory, then the environment
// (which wins), then any overrides.
func loadConfig(environ func(string) (string, bool), overrides map[string]string) (*config.Config, error) {
	getenv, err := configEnv(environ)
	if err != nil {
		return nil, err
	}
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
	logOut, flushLog := bufferedLog(stderr)
	defer flushLog()
	log := newLogger(logOut, cfg)
	fl, err := openFleet(ctx, cfg, log)
	if err != nil {
		return err
	}
	if fl != nil {
		defer fl.Close()
	}
	tm, err := openTeams(ctx, cfg, log, fl)
	if err != nil {
		return err
	}
	// Deferred first, run last: requests still being answered add their
	// ledger rows until the server is down.
	defer tm.close(log)
	app := newApp(cfg, log, tm, fl)

	if app.metrics != nil && cfg.MetricsAddr != "" {
		closeMetrics, err := serveMetrics(cfg.MetricsAddr, server.MetricsHandler(app.metrics, cfg.MetricsKey), log)
		if err != nil {
			return err
		}
		defer closeMetrics()
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("falproxy: listen on %s: %w", cfg.Addr(), err)
	}
	// Request contexts derive from base; cancelling it after the shutdown
	// grace period makes every handler still running cancel its fal jobs
	// and, told by the cause, answer its client 503 (or end its stream
	// with an error event) instead of taking it for gone.
	base, cancelBase := context.WithCancelCause(context.Background())
	defer cancelBase(nil)
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
		hooks.listening(baseURL, cfg)
	}
	warmCtx, cancelWarm := context.WithTimeout(ctx, warmDeadline)
	defer cancelWarm()
	go app.schemas.Warm(warmCtx, app.warmEndpoints())
	go tm.prices.Warm(warmCtx, app.pricedEndpoints())
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
		// and give those cancel calls and the answers a moment to go out.
		log.Warn("grace period over, cancelling in-flight requests")
		cancelBase(server.ErrShuttingDown)
		finalCtx, cancelFinal := context.WithTimeout(context.Background(), shutdown.CancelledAnswers)
		defer cancelFinal()
		if err := srv.Shutdown(finalCtx); err != nil {
			_ = srv.Close()
		}
	}
	// Cancels of abandoned jobs are retried in the background; give them
	// a bounded time to settle, since a job left running is billed.
	drainCtx, stopDrain := context.WithTimeout(context.Background(), shutdown.CancelDrain)
	defer stopDrain()
	if err := app.fal.Close(drainCtx); err != nil {
		log.Warn("stopped before every abandoned fal job was cancelled", "err", err)
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
	metrics *metrics.Metrics // nil when METRICS_ENABLED=false
}

// newApp builds the handler; fl, when not nil, is the fleet whose Redis
// holds the state shared by replicas.
func newApp(cfg *config.Config, log *slog.Logger, tm *teamsParts, fl *fleet.Fleet) *app {
	hc := fal.NewHTTPClient()
	if cfg.FalH2C {
		hc = fal.NewH2CHTTPClient()
	}
	pool := newPool(cfg, fl)
	schemas := falschema.NewStore(falschema.StoreOptions{URL: cfg.OpenAPIURL, HTTP: hc, TTL: cfg.SchemaTTL, Logger: log})
	var m *metrics.Metrics
	if cfg.MetricsEnabled {
		m = metrics.New(pool, schemas)
	}
	client := fal.New(fal.Options{QueueURL: cfg.QueueURL, RunURL: cfg.RunURL, StorageURL: cfg.StorageURL, Pool: pool, HTTP: hc, Logger: log, Observer: m,
		MediaTTL: cfg.MediaTTL})
	opt := server.Options{
		AccessKeys:        cfg.AccessKeys,
		ImageModels:       cfg.ImageModels,
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
		MetricsKey:        cfg.MetricsKey,
		MetricsElsewhere:  cfg.MetricsAddr != "",
		ChatModels:        cfg.ChatModels,
		QueuePriority:     cfg.QueuePriority,
		ChatBackend:       cfg.ChatBackend,
		ChatLimits:        chat.Limits{Prompt: cfg.PromptLimit, System: cfg.SystemPromptLimit, Separator: cfg.PromptSeparator},
		Debug:             cfg.Debug,
		Playground:        cfg.PlaygroundEnabled,
		Fal:               client,
		Downloader:        fal.NewDownloader(fal.DownloaderOptions{AllowPrivate: cfg.AllowPrivateMedia}),
		Schemas:           schemas,
		Logger:            log,
		Redact:            cfg.Redact,
		AudioModels:       cfg.AudioModels,

		VideoModels: cfg.VideoModels,
		SigningKeys: cfg.SigningKeys,
		MediaTTL:    cfg.MediaTTL,

		// Responses and embeddings.
		ResponsesPassthrough: cfg.ResponsesMode == config.ResponsesPassthrough,
		EmbeddingModels:      cfg.EmbeddingModels,
	}
	tm.wire(&opt)
	wireFleet(&opt, fl, tm.limits)
	h := server.New(opt)
	return &app{cfg: cfg, handler: h, schemas: schemas, fal: client, metrics: m}
}

// warmEndpoints are the endpoints whose schemas are fetched at start-up:
// the image models', so that the first request finds them, and the audio
// models', which tell /v1/models whether an alias speaks or transcribes.
func (a *app) warmEndpoints() []string {
	out := make([]string, 0, len(a.cfg.ImageModels))
	for _, m := range a.cfg.ImageModels {
		out = append(out, m.Endpoint)
	}
	for _, m := range a.cfg.AudioModels {
		out = append(out, m.Endpoint)
	}
	return out
}
