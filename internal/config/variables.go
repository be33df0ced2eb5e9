package config

import (
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/chat"
)

// Variable documents one configuration variable. Variables is the single
// source of truth: Load reads exactly these names (and their aliases) and
// takes its defaults from here, and Markdown renders the README table from it.
type Variable struct {
	Name        string   // the preferred name
	Aliases     []string // older names that keep working; Name wins when both are set
	Default     string   // used when the variable and its aliases are unset or empty
	Required    bool     // Load fails when no value is given
	Secret      bool     // the value never appears in errors or logs
	Group       string   // one of GroupCore, GroupChat, GroupLimits, GroupOps
	Format      string   // the accepted syntax, used in error messages: "must be <Format>"
	Description string   // what the variable does, for the README
	// KeepSpace makes a value of only white space a value, not "unset".
	KeepSpace bool
}

// Groups that order and label the variables in the README.
const (
	GroupCore   = "core"
	GroupChat   = "chat"
	GroupLimits = "limits"
	GroupOps    = "ops"
)

// Variable names, used by Load.
const (
	envAccessKeys        = "CUSTOM_ACCESS_KEY"
	envFalKeys           = "AI_KEYS"
	envImageModels       = "SUPPORTED_MODELS"
	envDefaultImageModel = "DEFAULT_IMAGE_MODEL"
	envAllowAnyEndpoint  = "ALLOW_ANY_ENDPOINT"
	envAudioModels       = "AUDIO_MODELS"
	envHost              = "HOST"
	envPort              = "PORT"
	envDebug             = "DEBUG_MODE"
	envQueueURL          = "FAL_QUEUE_URL"
	envRunURL            = "FAL_RUN_URL"
	envOpenAPIURL        = "FAL_OPENAPI_URL"
	envStorageURL        = "FAL_STORAGE_URL"
	envFalH2C            = "FAL_H2C"
	envAllowPrivateMedia = "ALLOW_PRIVATE_MEDIA"
	envMediaTTL          = "MEDIA_TTL"
	envQueuePriority     = "QUEUE_PRIORITY"
	envSchemaTTL         = "SCHEMA_TTL"
	envRequestTimeout    = "REQUEST_TIMEOUT"
	envCORSOrigins       = "CORS_ORIGINS"
	envSafetyChecker     = "SAFETY_CHECKER"
	envChatModels        = "CHAT_MODELS"
	envChatEndpoint      = "CHAT_ENDPOINT"
	envPromptLimit       = "PROMPT_LIMIT"
	envSystemPromptLimit = "SYSTEM_PROMPT_LIMIT"
	envPromptSeparator   = "PROMPT_SEPARATOR"
	envResponsesMode     = "RESPONSES_MODE"
	envEmbeddingModels   = "EMBEDDING_MODELS"
	envMaxInflight       = "MAX_INFLIGHT"
	envKeyConcurrency    = "KEY_CONCURRENCY"
	envAdmissionWait     = "ADMISSION_WAIT"
	envMaxBodyBytes      = "MAX_BODY_BYTES"
	envBodyReadTimeout   = "BODY_READ_TIMEOUT"
	envShutdownGrace     = "SHUTDOWN_GRACE"
	envMetricsEnabled    = "METRICS_ENABLED"
	envMetricsKey        = "METRICS_KEY"
	envMetricsAddr       = "METRICS_ADDR"
	envLogFormat         = "LOG_FORMAT"
	envPlaygroundEnabled = "PLAYGROUND_ENABLED"
	envVideoModels       = "VIDEO_MODELS"
	envSigningKey        = "SIGNING_KEY"
	envDatabaseURL       = "DATABASE_URL"
	envAdminKey          = "ADMIN_KEY"
	envAPIURL            = "FAL_API_URL"
	envFalAdminKey       = "FAL_ADMIN_KEY"
	envPricesFile        = "PRICES_FILE"
	envRedisURL          = "REDIS_URL"
	envRedisRequired     = "REDIS_REQUIRED"
	envReplicas          = "REPLICAS"
)

// Modes RESPONSES_MODE accepts.
const (
	ResponsesBridge      = "bridge"
	ResponsesPassthrough = "passthrough"
)

// Log formats LOG_FORMAT accepts.
const (
	LogText = "text"
	LogJSON = "json"
)

// Formats shared by several variables.
const (
	formatBool     = "a boolean (true/false, 1/0, yes/no, on/off)"
	formatURL      = "an absolute http(s) URL without query or fragment"
	formatDuration = "a duration of 0 or more such as 90s, 5m or 24h, or a whole number of seconds"
	formatPositive = "a positive duration such as 90s, 5m or 24h, or a whole number of seconds"
	formatCount    = "an integer of at least 0, where 0 means no limit"
)

// defaultChatModels is the model list of the original chat proxy.
const defaultChatModels = "anthropic/claude-3.7-sonnet,anthropic/claude-3.5-sonnet,anthropic/claude-3-haiku," +
	"google/gemini-pro-1.5,google/gemini-flash-1.5,google/gemini-flash-1.5-8b,google/gemini-2.5-flash," +
	"meta-llama/llama-3.2-1b-instruct,meta-llama/llama-3.2-3b-instruct,meta-llama/llama-3.1-8b-instruct," +
	"meta-llama/llama-3.1-70b-instruct,meta-llama/llama-4-maverick," +
	"openai/gpt-4o-mini,openai/gpt-4o,deepseek/deepseek-r1"

// Variables lists every configuration variable, grouped and in README order.
var Variables = []Variable{
	{
		Name: envAccessKeys, Aliases: []string{"API_KEY"}, Required: true, Secret: true, Group: GroupCore,
		Format:      "comma-separated access keys of at least " + strconv.Itoa(MinKeyLength) + " characters each",
		Description: "Keys clients must send as `Authorization: Bearer <key>`. Several keys may be listed; spaces around them are ignored. A shorter key stops start-up.",
	},
	{
		Name: envFalKeys, Aliases: []string{"FAL_KEY"}, Required: true, Secret: true, Group: GroupCore,
		Format:      "comma-separated fal keys",
		Description: "fal API keys the proxy spreads requests over. Spaces are trimmed and empty entries dropped; the same key listed twice is an error.",
	},
	{
		Name: envImageModels, Default: "flux-dev:fal-ai/flux/dev,flux-schnell:fal-ai/flux/schnell", Group: GroupCore,
		Format:      "comma-separated alias:endpoint_id pairs or bare endpoint ids",
		Description: "Image models offered as `model`. Each pair is split at its first `:`; a bare endpoint id is its own alias. Aliases must be unique.",
	},
	{
		Name: envDefaultImageModel, Group: GroupCore,
		Format:      "an alias from " + envImageModels,
		Description: "Model used when an image request names none. Empty means the first alias of `SUPPORTED_MODELS`.",
	},
	{
		Name: envAllowAnyEndpoint, Default: "false", Group: GroupCore, Format: formatBool,
		Description: "Also accept a raw fal endpoint id (such as `fal-ai/recraft/v3/text-to-image`) as an image `model`.",
	},
	{
		Name: envAudioModels, Group: GroupCore,
		Format: "comma-separated alias:endpoint_id pairs or bare endpoint ids",
		Description: "Audio models offered as `model` on `/v1/audio/...`, parsed like `SUPPORTED_MODELS`. Whether one speaks or transcribes " +
			"is read from its schema. Aliases must differ from the image and chat aliases. Empty offers no audio.",
	},
	{
		Name: envHost, Default: "0.0.0.0", Group: GroupCore,
		Format:      "a host name or IP address without spaces",
		Description: "Address the server listens on.",
	},
	{
		Name: envPort, Default: "8000", Group: GroupCore,
		Format:      "an integer between 1 and 65535",
		Description: "TCP port the server listens on.",
	},
	{
		Name: envDebug, Default: "false", Group: GroupCore, Format: formatBool,
		Description: "Log request and upstream details at debug level. Keys are always redacted.",
	},
	{
		Name: envQueueURL, Default: "https://queue.fal.run", Group: GroupCore, Format: formatURL,
		Description: "Base of fal's queue API. A trailing slash is removed.",
	},
	{
		Name: envRunURL, Default: "https://fal.run", Group: GroupCore, Format: formatURL,
		Description: "Base of fal's synchronous API, also used for chat. A trailing slash is removed.",
	},
	{
		Name: envOpenAPIURL, Default: "https://fal.ai/api/openapi/queue/openapi.json", Group: GroupCore, Format: formatURL,
		Description: "Where the per-endpoint OpenAPI document is fetched (`?endpoint_id=<id>` is appended).",
	},
	{
		Name: envAPIURL, Default: "https://api.fal.ai", Group: GroupCore, Format: formatURL,
		Description: "Base of fal's platform API, whose pricing API (`/v1/models/pricing`) prices requests for budgets and the usage ledger. A trailing slash is removed.",
	},
	{
		Name: envFalAdminKey, Group: GroupCore, Secret: true,
		Format:      "empty, or a fal admin key of at least " + strconv.Itoa(MinKeyLength) + " characters without spaces",
		Description: "The fal key fal's pricing API is called with, for accounts where that API wants an admin key. Empty: the keys of `AI_KEYS` in turn, as for other calls. Used for nothing else.",
	},
	{
		Name: envStorageURL, Default: "https://rest.fal.ai", Group: GroupCore, Format: formatURL,
		Description: "Base of fal's REST API, used to upload input files (edit images, video input references, recordings to transcribe) to fal storage when larger than 1 MiB (smaller ones go inline).",
	},
	{
		Name: envFalH2C, Default: "false", Group: GroupCore, Format: formatBool,
		Description: "Speak HTTP/2 without TLS (h2c, prior knowledge) to `http://` fal URLs, for an upstream known to support it such as the built-in emulator. " +
			"Off, plain `http://` upstreams get HTTP/1.1; `https://` upstreams negotiate HTTP/2 either way.",
	},
	{
		Name: envAllowPrivateMedia, Default: "false", Group: GroupCore, Format: formatBool,
		Description: "Let generated media (result images, speech, video content) be downloaded from private, loopback and link-local addresses. " +
			"Off, a result URL pointing into the network falproxy runs in is refused; `falproxy demo` turns it on for its emulator.",
	},
	{
		Name: envSchemaTTL, Default: "24h", Group: GroupCore, Format: formatPositive,
		Description: "How long a fetched endpoint schema is reused before it is fetched again. A bare integer counts seconds.",
	},
	{
		Name: envRequestTimeout, Default: "300s", Group: GroupCore, Format: formatPositive,
		Description: "Longest time one request may take, from arrival to the last byte of the answer. A bare integer counts seconds.",
	},
	{
		Name: envCORSOrigins, Default: "*", Group: GroupCore,
		Format:      "* or comma-separated origins such as https://app.example.com",
		Description: "Origins allowed by CORS. `*` allows every origin and cannot be combined with others.",
	},
	{
		Name: envSafetyChecker, Default: "false", Group: GroupCore, Format: formatBool,
		Description: "Value sent as `enable_safety_checker` to image models that have the field.",
	},
	{
		Name: envMediaTTL, Group: GroupCore,
		Format: "empty, or a duration of at least 1s such as 90s, 30m or 24h, or a whole number of seconds",
		Description: "How long fal keeps the media it generates (images, speech, videos), sent as `X-Fal-Object-Lifecycle-Preference` with every job, and the basis of a video's `expires_at`. " +
			"Empty leaves fal's default (7 days for `expires_at`). Result URLs stop working after it, so keep it longer than clients need them.",
	},
	{
		Name: envQueuePriority, Group: GroupCore,
		Format: "comma-separated alias:low or alias:normal pairs",
		Description: "fal queue priority (`x-fal-queue-priority`) for the jobs of the given aliases (image, chat, video, audio or embedding), e.g. `sdxl:low` for background work. " +
			"Aliases not listed get fal's default. Every falproxy job also carries `X-Fal-Request-Timeout`, the time left of `REQUEST_TIMEOUT`, so that fal drops a job that could not start in time instead of billing it.",
	},
	{
		Name: envVideoModels, Group: GroupCore,
		Format: "comma-separated alias:text-endpoint[|image-endpoint[|remix-endpoint]] entries",
		Description: "Video models offered on `/v1/videos`; the endpoints of an entry are separated by a vertical bar (see [Videos](#videos)). " +
			"The image-to-video endpoint serves requests with `input_reference`; without a remix endpoint, `<family>/video-to-video/remix` " +
			"next to the text-to-video one is used when fal has it. Empty offers no video models.",
	},
	{
		Name: envSigningKey, Group: GroupCore, Secret: true,
		Format: "empty, or comma-separated keys of at least " + strconv.Itoa(MinKeyLength) + " characters each",
		Description: "Keys that seal video ids (AES-256-GCM, under a key derived from each): the first seals, every one opens, so a key can be rotated. Empty derives a key from each fal key, " +
			"so every replica with the same `AI_KEYS` accepts the ids; a changed key makes older ids unknown (404).",
	},
	{
		Name: envChatModels, Default: defaultChatModels, Group: GroupChat,
		Format: "comma-separated alias:model pairs or bare model ids",
		Description: "Chat models offered as `model`. An entry is a bare model id when it has no `:` or when the part before its first `:` " +
			"contains a `/` (so `deepseek/deepseek-r1:free` is a model id); otherwise it is `alias:model`.",
	},
	{
		Name: envChatEndpoint, Default: chat.Router.String(), Group: GroupChat,
		Format:      "one of " + strings.Join(chat.BackendIDs(), ", "),
		Description: "fal app that serves chat: `openrouter/router` and `fal-ai/any-llm` take a folded prompt; `openrouter/router/openai/v1` is an OpenAI-compatible passthrough.",
	},
	{
		Name: envPromptLimit, Default: strconv.Itoa(chat.DefaultPromptLimit), Group: GroupChat,
		Format:      "an integer of at least 1",
		Description: "Most characters of recent conversation sent as `prompt` when messages are folded into one prompt.",
	},
	{
		Name: envSystemPromptLimit, Default: strconv.Itoa(chat.DefaultSystemLimit), Group: GroupChat,
		Format:      "an integer of at least 0",
		Description: "Most characters sent as `system_prompt` (system messages plus older conversation) when messages are folded.",
	},
	{
		Name: envPromptSeparator, Default: strings.ReplaceAll(chat.DefaultSeparator, "\n", `\n`), Group: GroupChat, KeepSpace: true,
		Format:      `text, where \n, \r, \t and \\ are expanded`,
		Description: "Text placed between the system messages and the older conversation in a folded `system_prompt`. Not trimmed.",
	},
	{
		Name: envResponsesMode, Default: ResponsesBridge, Group: GroupChat,
		Format: "bridge or passthrough",
		Description: "How `POST /v1/responses` is served: `bridge` translates it onto the chat backend of `CHAT_ENDPOINT`; `passthrough` forwards it to fal's own " +
			"`openrouter/router/openai/v1/responses` and needs `CHAT_ENDPOINT=openrouter/router/openai/v1`.",
	},
	{
		Name: envEmbeddingModels, Group: GroupChat,
		Format: "comma-separated alias:model pairs or bare model ids",
		Description: "Embedding models offered as `model` on `POST /v1/embeddings`, served by fal's `openrouter/router/openai/v1/embeddings`; " +
			"entries are read as in `CHAT_MODELS`. Empty offers none.",
	},
	{
		Name: envMaxInflight, Default: "1000", Group: GroupLimits, Format: formatCount,
		Description: "Most requests running fal work (image generations and edits, chat, Responses, embeddings, audio, video creation and remixes) at once; further such requests wait up to `ADMISSION_WAIT` for a slot, then get 503. " +
			"Reading a video's status or content starts no fal job and is not counted.",
	},
	{
		Name: envKeyConcurrency, Default: "0", Group: GroupLimits, Format: formatCount,
		Description: "Most requests running on one fal key at once (fal limits concurrency per account).",
	},
	{
		Name: envAdmissionWait, Default: "10s", Group: GroupLimits, Format: formatDuration,
		Description: "How long a request may wait for a free slot before it is refused. A bare integer counts seconds.",
	},
	{
		Name: envMaxBodyBytes, Default: "50MiB", Group: GroupLimits,
		Format:      "a positive size in bytes, optionally followed by B, KB, MB, GB, KiB, MiB or GiB",
		Description: "Largest request body accepted; image edits upload whole images, so keep it generous.",
	},
	{
		Name: envBodyReadTimeout, Default: "60s", Group: GroupLimits, Format: formatPositive,
		Description: "Longest time a client may take to send a request body; a slower one gets 408. Bodies are read whole before a request waits for a slot, so a slow upload holds no slot. A bare integer counts seconds.",
	},
	{
		Name: envShutdownGrace, Default: "30s", Group: GroupLimits, Format: formatDuration,
		Description: "How long running requests may finish after a shutdown signal. A bare integer counts seconds.",
	},
	{
		Name: envMetricsEnabled, Default: "true", Group: GroupOps, Format: formatBool,
		Description: "Serve Prometheus metrics at `/metrics`. Without `METRICS_KEY` or `METRICS_ADDR` they are open to anyone who reaches the port.",
	},
	{
		Name: envMetricsKey, Group: GroupOps, Secret: true,
		Format:      "empty, or a key of at least " + strconv.Itoa(MinKeyLength) + " characters without spaces",
		Description: "When set, `/metrics` answers only requests with `Authorization: Bearer <key>` (compared in constant time); others get 401.",
	},
	{
		Name: envMetricsAddr, Group: GroupOps,
		Format:      "empty, or host:port such as 127.0.0.1:9090",
		Description: "When set, `/metrics` is served on this separate listen address instead of `HOST`:`PORT`, whose `/metrics` then answers 404.",
	},
	{
		Name: envLogFormat, Default: LogText, Group: GroupOps,
		Format:      "text or json",
		Description: "Log line format.",
	},
	{
		Name: envDatabaseURL, Group: GroupOps, Secret: true,
		Format:      "empty, sqlite:///path/to/falproxy.db or postgres://user:password@host/db (postgresql:// too)",
		Description: "The store of virtual keys and the usage ledger. Empty: `falproxy.db` in the working directory (beside `.env`), used only when `ADMIN_KEY` is set; with neither, falproxy keeps no database. Migrations run at start-up.",
	},
	{
		Name: envAdminKey, Group: GroupOps, Secret: true,
		Format:      "empty, or a key of at least " + strconv.Itoa(MinKeyLength) + " characters without spaces",
		Description: "Opens the admin API under `/admin/` to `Authorization: Bearer <key>`; it manages virtual keys and reads usage. With the playground on, `/admin` serves a page for it. Unset, `/admin/` answers 404.",
	},
	{
		Name: envPricesFile, Group: GroupOps,
		Format:      "empty, or the path of a JSON file",
		Description: "Prices that override fal's pricing API, as JSON `{\"fal-ai/flux/dev\": {\"unit_price\": 0.025, \"unit\": \"image\"}}`. A model behind an LLM endpoint (chat, Responses, embeddings) is priced by an `\"<endpoint>#<model>\"` entry, e.g. `\"openrouter/router#openai/gpt-4o\"`, else at the endpoint's price; `input_unit_price` and `output_unit_price` price input and output tokens apart.",
	},
	{
		Name: envRedisURL, Group: GroupOps, Secret: true,
		Format:      "empty, or redis://[user:password@]host:port/db, rediss://... (TLS) or unix:///path",
		Description: "The Redis (or Valkey) that several replicas share: fal key health, each virtual key's requests per minute, concurrent requests and budget reservations, and `KEY_CONCURRENCY` hold across the fleet. Empty: all of it stays in this process. See RELIABILITY.md for what happens while Redis is unreachable.",
	},
	{
		Name: envRedisRequired, Default: "false", Group: GroupOps, Format: formatBool,
		Description: "With `REDIS_URL`: refuse to start, and answer 503 to requests that need shared limits, while Redis is unreachable. False: keep serving with each replica enforcing its share of the limits.",
	},
	{
		Name: envReplicas, Default: "1", Group: GroupOps, Format: "an integer of at least 1 (0 is read as 1)",
		Description: "The smallest fleet each replica assumes while Redis is unreachable, to enforce its share (limit ÷ replicas) of every shared limit; more replicas last seen through Redis count instead. The default, 1, gives a replica that never reached Redis the full limit: set it to the fewest replicas that run (an autoscaler's minimum), so that a replica that starts while Redis is down takes only its share.",
	},
	{
		Name: envPlaygroundEnabled, Default: "false", Group: GroupOps, Format: formatBool,
		Description: "Serve a small web page for trying requests. `falproxy demo` turns it on.",
	},
}
