// Package server is falproxy's HTTP front: the OpenAI routes, middleware
// (request id, access log, recovery, CORS, auth, body limits) and the
// handlers that join the translation packages to the fal client. It is the
// only package that touches http.ResponseWriter.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/metrics"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/responses"
	"github.com/falproxy/falproxy/internal/teams"
)

// Options is everything the server needs; cmd builds it from the config.
type Options struct {
	AccessKeys        []string
	ImageModels       []registry.ImageModel
	DefaultImageModel string // alias; "" = first image model
	AllowAnyEndpoint  bool   // accept raw fal endpoint ids as model
	CORSOrigins       []string
	SafetyChecker     bool
	RequestTimeout    time.Duration
	MaxBodyBytes      int64
	ChatModels        []registry.ChatModel
	ChatBackend       chat.Backend // the fal app that serves chat; the zero value is chat.Router
	ChatLimits        chat.Limits
	Debug             bool // log payloads (keys are never logged)
	// Playground serves a page for trying the API at "/" and its assets
	// under /playground/; off, "/" is the JSON 404 like any unknown path.
	Playground bool

	// MaxImageBytes caps each input image (and the mask) of an edit
	// (default 50 MiB, OpenAI's own limit); MaxBodyBytes still bounds the
	// whole request.
	MaxImageBytes int64
	// InlineLimit is the size up to which an edit's input image (or a
	// recording to transcribe) goes to fal inline as a data: URI; larger
	// ones are uploaded to fal storage first (default 1 MiB; negative
	// uploads every file).
	InlineLimit int64

	// BodyReadTimeout bounds the time a client may take to send a request
	// body (default 60s); a slower one gets 408.
	BodyReadTimeout time.Duration

	// MaxInflight bounds requests running fal work at once (0: no bound);
	// AdmissionWait is how long one waits for a slot before a 503.
	MaxInflight   int
	AdmissionWait time.Duration
	// Metrics, when set, records request and fal metrics and is served at
	// /metrics.
	Metrics *metrics.Metrics
	// MetricsKey, when set, is the Bearer token /metrics requires
	// (METRICS_KEY); without it the metrics are open.
	MetricsKey string
	// MetricsElsewhere leaves /metrics off this handler, where it answers
	// 404, because MetricsHandler serves it on a listener of its own
	// (METRICS_ADDR). Metrics are still recorded.
	MetricsElsewhere bool

	// QueuePriority maps image and chat aliases to the fal queue priority
	// of their jobs (fal.PriorityLow or fal.PriorityNormal).
	QueuePriority map[string]string

	Fal        *fal.Client
	Downloader *fal.Downloader
	Schemas    *falschema.Store
	Logger     *slog.Logger
	// Redact removes secrets from text before it is logged.
	Redact func(string) string
	// Created is the "created" time reported for models.
	Created time.Time

	// Videos.

	// VideoModels are the aliases served on /v1/videos (VIDEO_MODELS).
	VideoModels []registry.VideoModel
	// SigningKeys seal video ids (SIGNING_KEY): the first signs, every one
	// verifies; empty derives a key from each fal key.
	SigningKeys []string
	// MediaTTL is how long fal keeps generated media (MEDIA_TTL), for a
	// Video's expires_at; zero means fal's default retention.
	MediaTTL time.Duration

	// Audio: AudioModels are the aliases of AUDIO_MODELS, served on
	// /v1/audio/speech, /v1/audio/transcriptions and
	// /v1/audio/translations as their schemas say.
	AudioModels []registry.AudioModel

	// Responses and embeddings.
	// ResponsesStore bounds the responses kept for previous_response_id
	// and GET /v1/responses/{id}; the zero value is
	// responses.DefaultStoreLimits. They are kept in process, or with a
	// Gate in its database, which replicas share (see responses.Shared).
	ResponsesStore responses.StoreLimits
	// ResponsesPassthrough forwards /v1/responses to fal's OpenAI-compatible
	// responses route (RESPONSES_MODE=passthrough); only with ChatBackend
	// chat.Passthrough, whose model ids that route takes.
	ResponsesPassthrough bool
	// EmbeddingModels are the aliases of /v1/embeddings (EMBEDDING_MODELS).
	EmbeddingModels []registry.EmbeddingModel

	// KeepAliveEvery is how often a stream (chat, images, Responses) that
	// fal leaves silent gets a keep-alive comment; 15s when zero. Tests
	// shorten it.
	KeepAliveEvery time.Duration

	// Teams: Gate, when set, accepts virtual keys beside AccessKeys,
	// applies their limits and budgets and keeps the usage ledger;
	// AdminKey (ADMIN_KEY) opens the admin API under /admin/; Prices
	// prices requests for budgets and the ledger.
	Gate     *teams.Gate
	AdminKey string
	Prices   *pricing.Catalog
	// Fleet, when set, is the Redis the replicas share limits through:
	// /health shows its status, and while it is unreachable with
	// REDIS_REQUIRED, virtual keys' requests are refused (503).
	Fleet *fleet.Fleet
}

// Server holds the handlers' shared state.
type Server struct {
	opt       Options
	keys      accessKeys
	log       *slog.Logger
	models    *modelTable
	admission *admission
	videos    *videoState
	responses responses.Keeper
	// voicesWarned holds the endpoints whose failed schema
	// /v1/audio/voices has logged at warn level (see voicesSkipped).
	voicesWarned sync.Map
}

// New returns the falproxy HTTP handler.
func New(opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Redact == nil {
		opt.Redact = func(s string) string { return s }
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = 300 * time.Second
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 50 << 20
	}
	if opt.BodyReadTimeout <= 0 {
		opt.BodyReadTimeout = 60 * time.Second
	}
	if opt.MaxImageBytes <= 0 {
		opt.MaxImageBytes = 50 << 20
	}
	if opt.InlineLimit == 0 {
		opt.InlineLimit = 1 << 20
	}
	if opt.KeepAliveEvery <= 0 {
		opt.KeepAliveEvery = defaultKeepAliveEvery
	}
	if opt.Created.IsZero() {
		opt.Created = time.Now()
	}
	// fal's responses route takes the model ids of the passthrough chat
	// backend only; config refuses other pairings, and this keeps the
	// handlers from checking both.
	opt.ResponsesPassthrough = opt.ResponsesPassthrough && opt.ChatBackend == chat.Passthrough
	if opt.ResponsesStore == (responses.StoreLimits{}) {
		opt.ResponsesStore = responses.DefaultStoreLimits()
	}
	s := &Server{
		opt:       opt,
		keys:      newAccessKeys(opt.AccessKeys),
		log:       opt.Logger,
		models:    newModelTable(opt),
		admission: newAdmission(opt.MaxInflight, opt.AdmissionWait),
		videos:    newVideoState(opt),
		responses: newResponsesKeeper(opt),
	}
	return s.routes()
}

// newResponsesKeeper keeps the responses in the Gate's database, which
// replicas share, or without one in process.
func newResponsesKeeper(opt Options) responses.Keeper {
	if opt.Gate != nil {
		return responses.NewShared(opt.Gate.Store(), opt.ResponsesStore)
	}
	return responses.NewStore(opt.ResponsesStore)
}

// jobContext is the context of a request that runs fal work: bounded by
// REQUEST_TIMEOUT and carrying the request id to fal.
func (s *Server) jobContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.RequestTimeout)
	return fal.WithRequestID(ctx, infoFrom(r.Context()).ID), cancel
}

// withPriority makes the fal jobs of an alias carry its queue priority.
func (s *Server) withPriority(ctx context.Context, alias string) context.Context {
	return fal.WithQueuePriority(ctx, s.opt.QueuePriority[alias])
}

// modelContext is the job context of a request for alias: the access log
// names the alias, and fal gets REQUEST_TIMEOUT, the request id and the
// alias's queue priority.
func (s *Server) modelContext(r *http.Request, alias string) (context.Context, context.CancelFunc) {
	infoFrom(r.Context()).set(alias, "")
	ctx, cancel := s.jobContext(r)
	return s.withPriority(ctx, alias), cancel
}
