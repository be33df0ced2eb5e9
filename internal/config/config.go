// Package config turns `.env` files and the process environment into a typed,
// validated Config. Every variable is described once, in Variables; Load reads
// them through a getenv function so that it stays pure and easy to test, and
// Markdown renders the same list as the README table.
package config

import (
	"math"
	"net"
	"strconv"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/registry"
)

// Config is the validated configuration of one falproxy process. It is
// read-only once Load has returned it.
type Config struct {
	// Core.

	AccessKeys        []string              // CUSTOM_ACCESS_KEY: keys clients send as Bearer tokens; at least one, no repeats
	FalKeys           []string              // AI_KEYS: fal keys; at least one, no repeats
	ImageModels       []registry.ImageModel // SUPPORTED_MODELS, in the order given; aliases are unique
	DefaultImageModel string                // DEFAULT_IMAGE_MODEL: an alias from ImageModels
	AllowAnyEndpoint  bool                  // ALLOW_ANY_ENDPOINT: a raw fal endpoint id is also a valid image model
	Host              string                // HOST: listen host (IPv6 without brackets)
	Port              int                   // PORT: 1..65535
	Debug             bool                  // DEBUG_MODE
	QueueURL          string                // FAL_QUEUE_URL, without trailing slash
	RunURL            string                // FAL_RUN_URL, without trailing slash
	OpenAPIURL        string                // FAL_OPENAPI_URL, without trailing slash
	StorageURL        string                // FAL_STORAGE_URL, without trailing slash
	FalH2C            bool                  // FAL_H2C: HTTP/2 with prior knowledge to http:// fal URLs
	AllowPrivateMedia bool                  // ALLOW_PRIVATE_MEDIA: result downloads may reach private addresses
	SchemaTTL         time.Duration         // SCHEMA_TTL: positive
	RequestTimeout    time.Duration         // REQUEST_TIMEOUT: positive
	CORSOrigins       []string              // CORS_ORIGINS: either exactly ["*"] or origins like "https://app.example.com"
	SafetyChecker     bool                  // SAFETY_CHECKER: value of enable_safety_checker
	MediaTTL          time.Duration         // MEDIA_TTL: how long fal keeps generated media; 0 = fal's default
	// QueuePriority is QUEUE_PRIORITY: alias (image or chat) to fal queue
	// priority, fal.PriorityLow or fal.PriorityNormal; nil when unset.
	QueuePriority map[string]string
	// VideoModels is VIDEO_MODELS, in the order given; aliases are unique.
	VideoModels []registry.VideoModel
	// SigningKeys is SIGNING_KEY: the first signs video ids, all verify;
	// nil derives a key from each fal key.
	SigningKeys []string

	// Chat.

	ChatModels        []registry.ChatModel // CHAT_MODELS, in the order given; aliases are unique
	ChatBackend       chat.Backend         // CHAT_ENDPOINT: the fal app that serves chat
	PromptLimit       int                  // PROMPT_LIMIT: characters, at least 1
	SystemPromptLimit int                  // SYSTEM_PROMPT_LIMIT: characters, at least 0
	PromptSeparator   string               // PROMPT_SEPARATOR with escapes expanded
	// ResponsesMode is RESPONSES_MODE: ResponsesBridge or ResponsesPassthrough.
	ResponsesMode   string
	EmbeddingModels []registry.EmbeddingModel // EMBEDDING_MODELS, in the order given; aliases are unique

	// Limits.

	MaxInflight    int           // MAX_INFLIGHT: 0 means no limit
	KeyConcurrency int           // KEY_CONCURRENCY: per fal key; 0 means no limit
	AdmissionWait  time.Duration // ADMISSION_WAIT: 0 or more
	MaxBodyBytes   int64         // MAX_BODY_BYTES: positive
	ShutdownGrace  time.Duration // SHUTDOWN_GRACE: 0 or more

	BodyReadTimeout time.Duration // BODY_READ_TIMEOUT: positive

	// Operations.

	MetricsEnabled    bool   // METRICS_ENABLED
	MetricsKey        string // METRICS_KEY: Bearer token /metrics requires; "" = none
	MetricsAddr       string // METRICS_ADDR: host:port serving /metrics instead of Addr; "" = Addr
	LogFormat         string // LOG_FORMAT: LogText or LogJSON
	PlaygroundEnabled bool   // PLAYGROUND_ENABLED

	// Teams.

	DatabaseURL   string // DATABASE_URL: sqlite://... or postgres://...; "" = DefaultDatabaseURL when AdminKey is set
	AdminKey      string // ADMIN_KEY: Bearer token of the admin API; "" = no admin API
	APIURL        string // FAL_API_URL, without trailing slash
	RedisURL      string // REDIS_URL: the Redis the fleet shares; "" = none
	RedisRequired bool   // REDIS_REQUIRED: refuse rather than fall back
	Replicas      int    // REPLICAS: smallest fleet size for the fallback share, at least 1
	FalAdminKey   string // FAL_ADMIN_KEY: the key of fal's pricing API; "" = the AI_KEYS in turn
	PricesFile    string // PRICES_FILE: path of a JSON prices file; "" = none

	// Audio.

	AudioModels []registry.AudioModel // AUDIO_MODELS, in the order given; aliases are unique among all models

	// redactor hides the keys above; built by Load (see Redact).
	redactor *redactor
}

// Load builds a Config from the variables getenv returns, applying the
// defaults in Variables. It reports every problem at once as an *Error, one
// line per problem sorted by variable name; secret values never appear in it.
// Load reads nothing but getenv, so callers (and tests, and demo mode) decide
// where values come from; see Lookup and LoadDotEnv.
func Load(getenv func(string) string) (*Config, error) {
	l := newLoader(getenv)
	c := &Config{
		AccessKeys:       l.keys(envAccessKeys, false, true),
		FalKeys:          l.keys(envFalKeys, true, false),
		ImageModels:      l.imageModels(envImageModels),
		AllowAnyEndpoint: l.boolean(envAllowAnyEndpoint),
		Host:             l.host(envHost),
		Port:             l.integer(envPort, 1, 65535),
		Debug:            l.boolean(envDebug),
		QueueURL:         l.baseURL(envQueueURL),
		RunURL:           l.baseURL(envRunURL),
		OpenAPIURL:       l.baseURL(envOpenAPIURL),
		StorageURL:       l.baseURL(envStorageURL),
		SchemaTTL:        l.duration(envSchemaTTL, time.Nanosecond),
		RequestTimeout:   l.duration(envRequestTimeout, time.Nanosecond),
		CORSOrigins:      l.origins(envCORSOrigins),
		SafetyChecker:    l.boolean(envSafetyChecker),

		ChatModels:        l.chatModels(envChatModels),
		ChatBackend:       l.chatBackend(envChatEndpoint),
		PromptLimit:       l.integer(envPromptLimit, 1, math.MaxInt32),
		SystemPromptLimit: l.integer(envSystemPromptLimit, 0, math.MaxInt32),

		MaxInflight:    l.integer(envMaxInflight, 0, math.MaxInt32),
		KeyConcurrency: l.integer(envKeyConcurrency, 0, math.MaxInt32),
		AdmissionWait:  l.duration(envAdmissionWait, 0),
		MaxBodyBytes:   l.size(envMaxBodyBytes),
		ShutdownGrace:  l.duration(envShutdownGrace, 0),

		BodyReadTimeout: l.duration(envBodyReadTimeout, time.Nanosecond),

		MetricsEnabled:    l.boolean(envMetricsEnabled),
		MetricsKey:        l.key(envMetricsKey),
		MetricsAddr:       l.listenAddr(envMetricsAddr),
		LogFormat:         l.oneOf(envLogFormat, LogText, LogJSON),
		PlaygroundEnabled: l.boolean(envPlaygroundEnabled),
	}
	c.DefaultImageModel = l.defaultImageModel(envDefaultImageModel, c.ImageModels)
	c.FalH2C = l.boolean(envFalH2C)
	c.AllowPrivateMedia = l.boolean(envAllowPrivateMedia)
	c.MediaTTL = l.optionalDuration(envMediaTTL, time.Second)
	c.VideoModels = l.videoModels(envVideoModels)
	if s, _ := l.str(envSigningKey); s != "" {
		c.SigningKeys = l.keys(envSigningKey, true, true)
	}
	c.AudioModels = l.audioModels(envAudioModels)
	c.ResponsesMode = l.responsesMode(envResponsesMode, c.ChatBackend)
	c.EmbeddingModels = l.embeddingModels(envEmbeddingModels)
	aliases := c.aliasLists()
	l.checkAliases(aliases)
	c.QueuePriority = l.queuePriority(envQueuePriority, aliases)
	c.DatabaseURL = l.databaseURL(envDatabaseURL)
	c.AdminKey = l.key(envAdminKey)
	c.APIURL = l.baseURL(envAPIURL)
	c.FalAdminKey = l.key(envFalAdminKey)
	c.PricesFile, _ = l.str(envPricesFile)
	c.RedisURL = l.redisURL(envRedisURL)
	c.RedisRequired = l.boolean(envRedisRequired)
	c.Replicas = max(l.integer(envReplicas, 0, 10_000), 1) // 0 (or unset) is one replica: the full limit

	separator, _ := l.raw(envPromptSeparator)
	c.PromptSeparator = unescape(separator)

	if len(l.problems) > 0 {
		return nil, newError(l.problems)
	}
	c.redactor = newRedactor(c.secrets())
	return c, nil
}

// Addr is the listen address for net.Listen, e.g. "0.0.0.0:8000" or "[::1]:8000".
func (c *Config) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}
