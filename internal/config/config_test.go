package config

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/registry"
)

// required holds values for the two required variables.
var required = map[string]string{
	"CUSTOM_ACCESS_KEY": "client-key-0123456789",
	"AI_KEYS":           "fal-id:fal-secret-0001",
}

// envOf returns a getenv over required plus overrides (an override of ""
// removes a required value).
func envOf(overrides map[string]string) func(string) string {
	m := maps.Clone(required)
	maps.Copy(m, overrides)
	return func(name string) string { return m[name] }
}

func mustLoad(t *testing.T, overrides map[string]string) *Config {
	t.Helper()
	c, err := Load(envOf(overrides))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	c := mustLoad(t, nil)
	want := &Config{
		AccessKeys: []string{"client-key-0123456789"},
		FalKeys:    []string{"fal-id:fal-secret-0001"},
		ImageModels: []registry.ImageModel{
			{Alias: "flux-dev", Endpoint: "fal-ai/flux/dev"},
			{Alias: "flux-schnell", Endpoint: "fal-ai/flux/schnell"},
		},
		DefaultImageModel: "flux-dev",
		Host:              "0.0.0.0",
		Port:              8000,
		QueueURL:          "https://queue.fal.run",
		RunURL:            "https://fal.run",
		OpenAPIURL:        "https://fal.ai/api/openapi/queue/openapi.json",
		StorageURL:        "https://rest.fal.ai",
		APIURL:            "https://api.fal.ai",
		SchemaTTL:         24 * time.Hour,
		RequestTimeout:    300 * time.Second,
		CORSOrigins:       []string{"*"},
		ChatBackend:       chat.Router,
		PromptLimit:       4800,
		SystemPromptLimit: 4800,
		PromptSeparator:   "\n\n-------下面是比较早之前的对话内容-----\n\n",
		ResponsesMode:     ResponsesBridge,
		MaxInflight:       1000,
		AdmissionWait:     10 * time.Second,
		MaxBodyBytes:      50 << 20,
		BodyReadTimeout:   time.Minute,
		ShutdownGrace:     30 * time.Second,
		MetricsEnabled:    true,
		LogFormat:         LogText,
		Replicas:          1,
	}
	for _, id := range []string{
		"anthropic/claude-3.7-sonnet", "anthropic/claude-3.5-sonnet", "anthropic/claude-3-haiku",
		"google/gemini-pro-1.5", "google/gemini-flash-1.5", "google/gemini-flash-1.5-8b", "google/gemini-2.5-flash",
		"meta-llama/llama-3.2-1b-instruct", "meta-llama/llama-3.2-3b-instruct", "meta-llama/llama-3.1-8b-instruct",
		"meta-llama/llama-3.1-70b-instruct", "meta-llama/llama-4-maverick",
		"openai/gpt-4o-mini", "openai/gpt-4o", "deepseek/deepseek-r1",
	} {
		want.ChatModels = append(want.ChatModels, registry.ChatModel{Alias: id, Model: id})
	}
	c.redactor = nil // compared separately in the Redact tests
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestLoadValues(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		got  func(*Config) any
		want any
	}{
		{"access keys list", map[string]string{"CUSTOM_ACCESS_KEY": " " + keyA + " , " + keyB + " ,," + keyC + " "}, accessKeys, []string{keyA, keyB, keyC}},
		{"access keys repeat dropped", map[string]string{"CUSTOM_ACCESS_KEY": keyA + "," + keyB + "," + keyA}, accessKeys, []string{keyA, keyB}},
		{"access key alias", map[string]string{"CUSTOM_ACCESS_KEY": "", "API_KEY": keyOld}, accessKeys, []string{keyOld}},
		{"access key name beats alias", map[string]string{"CUSTOM_ACCESS_KEY": keyNew, "API_KEY": keyOld}, accessKeys, []string{keyNew}},
		{"blank name falls back to alias", map[string]string{"CUSTOM_ACCESS_KEY": "  ", "API_KEY": keyOld}, accessKeys, []string{keyOld}},
		{"fal keys list", map[string]string{"AI_KEYS": "k1, k2,"}, falKeys, []string{"k1", "k2"}},
		{"fal key alias", map[string]string{"AI_KEYS": "", "FAL_KEY": "id:secret"}, falKeys, []string{"id:secret"}},

		{"image pairs", map[string]string{"SUPPORTED_MODELS": "a:fal-ai/x, b : fal-ai/y/z"}, imageModels,
			[]registry.ImageModel{{Alias: "a", Endpoint: "fal-ai/x"}, {Alias: "b", Endpoint: "fal-ai/y/z"}}},
		{"bare endpoint", map[string]string{"SUPPORTED_MODELS": "fal-ai/recraft/v3"}, imageModels,
			[]registry.ImageModel{{Alias: "fal-ai/recraft/v3", Endpoint: "fal-ai/recraft/v3"}}},
		{"split at first colon", map[string]string{"SUPPORTED_MODELS": "x:fal-ai/y:z"}, imageModels,
			[]registry.ImageModel{{Alias: "x", Endpoint: "fal-ai/y:z"}}},
		{"default image model is first", map[string]string{"SUPPORTED_MODELS": "b:e/b,a:e/a"}, defaultImage, "b"},
		{"default image model chosen", map[string]string{"SUPPORTED_MODELS": "b:e/b,a:e/a", "DEFAULT_IMAGE_MODEL": " a "}, defaultImage, "a"},
		{"allow any endpoint", map[string]string{"ALLOW_ANY_ENDPOINT": "yes"}, func(c *Config) any { return c.AllowAnyEndpoint }, true},
		{"embedding models", map[string]string{"EMBEDDING_MODELS": "small:openai/text-embedding-3-small, openai/text-embedding-3-large"},
			func(c *Config) any { return c.EmbeddingModels },
			[]registry.EmbeddingModel{{Alias: "small", Model: "openai/text-embedding-3-small"}, {Alias: "openai/text-embedding-3-large", Model: "openai/text-embedding-3-large"}}},
		{"responses passthrough", map[string]string{"RESPONSES_MODE": "Passthrough", "CHAT_ENDPOINT": "openrouter/router/openai/v1"},
			func(c *Config) any { return c.ResponsesMode }, ResponsesPassthrough},

		{"host", map[string]string{"HOST": "127.0.0.1"}, func(c *Config) any { return c.Host }, "127.0.0.1"},
		{"ipv6 host brackets removed", map[string]string{"HOST": "[::1]"}, func(c *Config) any { return c.Host }, "::1"},
		{"port", map[string]string{"PORT": " 3000 "}, func(c *Config) any { return c.Port }, 3000},
		{"port max", map[string]string{"PORT": "65535"}, func(c *Config) any { return c.Port }, 65535},
		{"debug", map[string]string{"DEBUG_MODE": "TRUE"}, func(c *Config) any { return c.Debug }, true},

		{"queue url slash trimmed", map[string]string{"FAL_QUEUE_URL": "http://127.0.0.1:9000/"}, func(c *Config) any { return c.QueueURL }, "http://127.0.0.1:9000"},
		{"run url with path", map[string]string{"FAL_RUN_URL": "https://gw.example.com/fal/"}, func(c *Config) any { return c.RunURL }, "https://gw.example.com/fal"},
		{"openapi url", map[string]string{"FAL_OPENAPI_URL": "http://localhost:1/openapi.json"}, func(c *Config) any { return c.OpenAPIURL }, "http://localhost:1/openapi.json"},
		{"storage url", map[string]string{"FAL_STORAGE_URL": "HTTPS://rest.example.com//"}, func(c *Config) any { return c.StorageURL }, "HTTPS://rest.example.com"},
		{"h2c", map[string]string{"FAL_H2C": "yes"}, func(c *Config) any { return c.FalH2C }, true},
		{"private media", map[string]string{"ALLOW_PRIVATE_MEDIA": "1"}, func(c *Config) any { return c.AllowPrivateMedia }, true},

		{"schema ttl duration", map[string]string{"SCHEMA_TTL": "1h30m"}, func(c *Config) any { return c.SchemaTTL }, 90 * time.Minute},
		{"schema ttl seconds", map[string]string{"SCHEMA_TTL": "60"}, func(c *Config) any { return c.SchemaTTL }, time.Minute},
		{"request timeout", map[string]string{"REQUEST_TIMEOUT": "600"}, func(c *Config) any { return c.RequestTimeout }, 10 * time.Minute},
		{"cors list", map[string]string{"CORS_ORIGINS": "https://a.example.com/, http://localhost:5173"}, func(c *Config) any { return c.CORSOrigins },
			[]string{"https://a.example.com", "http://localhost:5173"}},
		{"safety checker", map[string]string{"SAFETY_CHECKER": "on"}, func(c *Config) any { return c.SafetyChecker }, true},
		{"media ttl", map[string]string{"MEDIA_TTL": "24h"}, func(c *Config) any { return c.MediaTTL }, 24 * time.Hour},
		{"media ttl seconds", map[string]string{"MEDIA_TTL": "600"}, func(c *Config) any { return c.MediaTTL }, 10 * time.Minute},
		{"queue priority", map[string]string{"QUEUE_PRIORITY": " flux-schnell:LOW, deepseek/deepseek-r1:free:normal",
			"CHAT_MODELS": "deepseek/deepseek-r1:free"}, func(c *Config) any { return c.QueuePriority },
			map[string]string{"flux-schnell": "low", "deepseek/deepseek-r1:free": "normal"}},

		{"chat alias and bare ids", map[string]string{"CHAT_MODELS": "sonnet:anthropic/claude-3.7-sonnet, openai/gpt-4o, deepseek/deepseek-r1:free, free:deepseek/deepseek-r1:free, gpt4"},
			chatModels, []registry.ChatModel{
				{Alias: "sonnet", Model: "anthropic/claude-3.7-sonnet"},
				{Alias: "openai/gpt-4o", Model: "openai/gpt-4o"},
				{Alias: "deepseek/deepseek-r1:free", Model: "deepseek/deepseek-r1:free"},
				{Alias: "free", Model: "deepseek/deepseek-r1:free"},
				{Alias: "gpt4", Model: "gpt4"},
			}},
		{"chat endpoint any-llm", map[string]string{"CHAT_ENDPOINT": "fal-ai/any-llm"}, func(c *Config) any { return c.ChatBackend }, chat.AnyLLM},
		{"chat endpoint openai", map[string]string{"CHAT_ENDPOINT": "OpenRouter/Router/OpenAI/v1"}, func(c *Config) any { return c.ChatBackend }, chat.Passthrough},
		{"prompt limit", map[string]string{"PROMPT_LIMIT": "100"}, func(c *Config) any { return c.PromptLimit }, 100},
		{"system prompt limit zero", map[string]string{"SYSTEM_PROMPT_LIMIT": "0"}, func(c *Config) any { return c.SystemPromptLimit }, 0},
		{"separator escapes", map[string]string{"PROMPT_SEPARATOR": `\n---\t\\n`}, func(c *Config) any { return c.PromptSeparator }, "\n---\t\\n"},
		{"separator keeps spaces", map[string]string{"PROMPT_SEPARATOR": " | "}, func(c *Config) any { return c.PromptSeparator }, " | "},

		{"max inflight unlimited", map[string]string{"MAX_INFLIGHT": "0"}, func(c *Config) any { return c.MaxInflight }, 0},
		{"key concurrency", map[string]string{"KEY_CONCURRENCY": "2"}, func(c *Config) any { return c.KeyConcurrency }, 2},
		{"redis url", map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"}, func(c *Config) any { return c.RedisURL }, "redis://127.0.0.1:6379/0"},
		{"redis required", map[string]string{"REDIS_REQUIRED": "true"}, func(c *Config) any { return c.RedisRequired }, true},
		{"replicas", map[string]string{"REPLICAS": "3"}, func(c *Config) any { return c.Replicas }, 3},
		{"replicas zero is one", map[string]string{"REPLICAS": "0"}, func(c *Config) any { return c.Replicas }, 1},
		{"admission wait zero", map[string]string{"ADMISSION_WAIT": "0"}, func(c *Config) any { return c.AdmissionWait }, time.Duration(0)},
		{"admission wait", map[string]string{"ADMISSION_WAIT": "250ms"}, func(c *Config) any { return c.AdmissionWait }, 250 * time.Millisecond},
		{"body bytes plain", map[string]string{"MAX_BODY_BYTES": "1048576"}, func(c *Config) any { return c.MaxBodyBytes }, int64(1 << 20)},
		{"body bytes MiB", map[string]string{"MAX_BODY_BYTES": "10MiB"}, func(c *Config) any { return c.MaxBodyBytes }, int64(10 << 20)},
		{"body read timeout", map[string]string{"BODY_READ_TIMEOUT": "5"}, func(c *Config) any { return c.BodyReadTimeout }, 5 * time.Second},
		{"body bytes KB", map[string]string{"MAX_BODY_BYTES": "512 kb"}, func(c *Config) any { return c.MaxBodyBytes }, int64(512000)},
		{"shutdown grace", map[string]string{"SHUTDOWN_GRACE": "5"}, func(c *Config) any { return c.ShutdownGrace }, 5 * time.Second},

		{"metrics off", map[string]string{"METRICS_ENABLED": "0"}, func(c *Config) any { return c.MetricsEnabled }, false},
		{"metrics key", map[string]string{"METRICS_KEY": " metrics-key-0123456789 "}, func(c *Config) any { return c.MetricsKey }, "metrics-key-0123456789"},
		{"metrics addr", map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}, func(c *Config) any { return c.MetricsAddr }, "127.0.0.1:9090"},
		{"metrics addr every interface", map[string]string{"METRICS_ADDR": ":9090"}, func(c *Config) any { return c.MetricsAddr }, ":9090"},
		{"metrics addr ipv6", map[string]string{"METRICS_ADDR": "[::1]:9090"}, func(c *Config) any { return c.MetricsAddr }, "[::1]:9090"},
		{"log json", map[string]string{"LOG_FORMAT": "JSON"}, func(c *Config) any { return c.LogFormat }, LogJSON},
		{"playground", map[string]string{"PLAYGROUND_ENABLED": "On"}, func(c *Config) any { return c.PlaygroundEnabled }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.env)
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// Access keys of MinKeyLength characters or more, for TestLoadValues.
const (
	keyA   = "access-key-a-0123456789"
	keyB   = "access-key-b-0123456789"
	keyC   = "access-key-c-0123456789"
	keyOld = "access-key-old-0123456789"
	keyNew = "access-key-new-0123456789"
)

func accessKeys(c *Config) any   { return c.AccessKeys }
func falKeys(c *Config) any      { return c.FalKeys }
func imageModels(c *Config) any  { return c.ImageModels }
func chatModels(c *Config) any   { return c.ChatModels }
func defaultImage(c *Config) any { return c.DefaultImageModel }

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"access key missing", map[string]string{"CUSTOM_ACCESS_KEY": ""}, "config: CUSTOM_ACCESS_KEY is required (comma-separated access keys of at least 16 characters each)"},
		{"fal keys missing", map[string]string{"AI_KEYS": " "}, "config: AI_KEYS is required (comma-separated fal keys)"},
		{"fal keys only commas", map[string]string{"AI_KEYS": ", ,"}, "config: AI_KEYS must list at least one key"},
		{"fal key repeated", map[string]string{"AI_KEYS": "k1,k2,k1"}, "config: AI_KEYS lists the same key twice (entries 1 and 3)"},
		{"fal key with space", map[string]string{"AI_KEYS": "k1,k 2"}, "config: AI_KEYS entry 2 contains spaces"},

		{"models empty alias", map[string]string{"SUPPORTED_MODELS": "a:e/a,:fal-ai/x"}, `config: SUPPORTED_MODELS entry ":fal-ai/x" has an empty alias`},
		{"models empty endpoint", map[string]string{"SUPPORTED_MODELS": "flux-dev:"}, `config: SUPPORTED_MODELS entry "flux-dev:" has an empty endpoint id`},
		{"models repeated alias", map[string]string{"SUPPORTED_MODELS": "a:e/1,a:e/2"}, `config: SUPPORTED_MODELS alias "a" is listed twice`},
		{"models spaces", map[string]string{"SUPPORTED_MODELS": "a:fal ai/x"}, `config: SUPPORTED_MODELS entry "a:fal ai/x" contains spaces`},
		{"models only commas", map[string]string{"SUPPORTED_MODELS": ","}, "config: SUPPORTED_MODELS must list at least one model"},
		{"default model unknown", map[string]string{"DEFAULT_IMAGE_MODEL": "sdxl"},
			`config: DEFAULT_IMAGE_MODEL must be an alias from SUPPORTED_MODELS (flux-dev, flux-schnell), got "sdxl"`},
		{"default model is an endpoint", map[string]string{"DEFAULT_IMAGE_MODEL": "fal-ai/flux/dev"},
			`config: DEFAULT_IMAGE_MODEL must be an alias from SUPPORTED_MODELS (flux-dev, flux-schnell), got "fal-ai/flux/dev"`},
		{"bool", map[string]string{"ALLOW_ANY_ENDPOINT": "maybe"},
			`config: ALLOW_ANY_ENDPOINT must be a boolean (true/false, 1/0, yes/no, on/off), got "maybe"`},

		{"host spaces", map[string]string{"HOST": "local host"}, `config: HOST must be a host name or IP address without spaces, got "local host"`},
		{"port word", map[string]string{"PORT": "abc"}, `config: PORT must be an integer between 1 and 65535, got "abc"`},
		{"port zero", map[string]string{"PORT": "0"}, `config: PORT must be an integer between 1 and 65535, got "0"`},
		{"port high", map[string]string{"PORT": "65536"}, `config: PORT must be an integer between 1 and 65535, got "65536"`},
		{"debug", map[string]string{"DEBUG_MODE": "enabled"}, `config: DEBUG_MODE must be a boolean (true/false, 1/0, yes/no, on/off), got "enabled"`},

		{"queue url relative", map[string]string{"FAL_QUEUE_URL": "queue.fal.run"},
			`config: FAL_QUEUE_URL must be an absolute http(s) URL without query or fragment, got "queue.fal.run"`},
		{"run url scheme", map[string]string{"FAL_RUN_URL": "ftp://fal.run"},
			`config: FAL_RUN_URL must be an absolute http(s) URL without query or fragment, got "ftp://fal.run"`},
		{"openapi url query", map[string]string{"FAL_OPENAPI_URL": "https://fal.ai/openapi.json?endpoint_id=x"},
			`config: FAL_OPENAPI_URL must be an absolute http(s) URL without query or fragment, got "https://fal.ai/openapi.json?endpoint_id=x"`},
		{"storage url no host", map[string]string{"FAL_STORAGE_URL": "https:///path"},
			`config: FAL_STORAGE_URL must be an absolute http(s) URL without query or fragment, got "https:///path"`},
		{"h2c", map[string]string{"FAL_H2C": "h2"}, `config: FAL_H2C must be a boolean (true/false, 1/0, yes/no, on/off), got "h2"`},
		{"private media", map[string]string{"ALLOW_PRIVATE_MEDIA": "local"},
			`config: ALLOW_PRIVATE_MEDIA must be a boolean (true/false, 1/0, yes/no, on/off), got "local"`},

		{"schema ttl zero", map[string]string{"SCHEMA_TTL": "0"},
			`config: SCHEMA_TTL must be a positive duration such as 90s, 5m or 24h, or a whole number of seconds, got "0"`},
		{"request timeout word", map[string]string{"REQUEST_TIMEOUT": "long"},
			`config: REQUEST_TIMEOUT must be a positive duration such as 90s, 5m or 24h, or a whole number of seconds, got "long"`},
		{"responses mode unknown", map[string]string{"RESPONSES_MODE": "relay"}, `config: RESPONSES_MODE must be bridge or passthrough, got "relay"`},
		{"responses passthrough on a folding backend", map[string]string{"RESPONSES_MODE": "passthrough"},
			"config: RESPONSES_MODE passthrough needs CHAT_ENDPOINT=openrouter/router/openai/v1; use bridge with openrouter/router"},
		{"embedding models repeated alias", map[string]string{"EMBEDDING_MODELS": "a:m/1,a:m/2"}, `config: EMBEDDING_MODELS alias "a" is listed twice`},
		{"cors star mixed", map[string]string{"CORS_ORIGINS": "*,https://a.example.com"}, "config: CORS_ORIGINS cannot combine * with other origins"},
		{"cors path", map[string]string{"CORS_ORIGINS": "https://a.example.com/app"},
			`config: CORS_ORIGINS entry "https://a.example.com/app" must be an origin such as https://app.example.com (scheme and host, no path)`},
		{"cors only commas", map[string]string{"CORS_ORIGINS": ","},
			`config: CORS_ORIGINS must be * or comma-separated origins such as https://app.example.com, got ","`},
		{"safety checker", map[string]string{"SAFETY_CHECKER": "2"}, `config: SAFETY_CHECKER must be a boolean (true/false, 1/0, yes/no, on/off), got "2"`},
		{"media ttl under a second", map[string]string{"MEDIA_TTL": "500ms"},
			`config: MEDIA_TTL must be empty, or a duration of at least 1s such as 90s, 30m or 24h, or a whole number of seconds, got "500ms"`},
		{"queue priority unknown alias", map[string]string{"QUEUE_PRIORITY": "sdxl:low"},
			`config: QUEUE_PRIORITY entry "sdxl:low" names no alias of SUPPORTED_MODELS, CHAT_MODELS, VIDEO_MODELS, AUDIO_MODELS or EMBEDDING_MODELS`},
		{"queue priority unknown value", map[string]string{"QUEUE_PRIORITY": "flux-dev:high"},
			`config: QUEUE_PRIORITY entry "flux-dev:high" must end in :low or :normal`},
		{"queue priority no value", map[string]string{"QUEUE_PRIORITY": "flux-dev"},
			`config: QUEUE_PRIORITY entry "flux-dev" must be alias:low or alias:normal`},
		{"queue priority twice", map[string]string{"QUEUE_PRIORITY": "flux-dev:low,flux-dev:normal"},
			`config: QUEUE_PRIORITY alias "flux-dev" is listed twice`},

		{"chat repeated alias", map[string]string{"CHAT_MODELS": "openai/gpt-4o,x:y,openai/gpt-4o"}, `config: CHAT_MODELS alias "openai/gpt-4o" is listed twice`},
		{"chat empty model", map[string]string{"CHAT_MODELS": "fast:"}, `config: CHAT_MODELS entry "fast:" has an empty model id`},
		{"chat empty alias", map[string]string{"CHAT_MODELS": ":openai/gpt-4o"}, `config: CHAT_MODELS entry ":openai/gpt-4o" has an empty alias`},
		{"chat endpoint", map[string]string{"CHAT_ENDPOINT": "fal-ai/any-llm/stream"},
			`config: CHAT_ENDPOINT must be one of openrouter/router, fal-ai/any-llm, openrouter/router/openai/v1, got "fal-ai/any-llm/stream"`},
		{"prompt limit zero", map[string]string{"PROMPT_LIMIT": "0"}, `config: PROMPT_LIMIT must be an integer of at least 1, got "0"`},
		{"system prompt limit negative", map[string]string{"SYSTEM_PROMPT_LIMIT": "-1"}, `config: SYSTEM_PROMPT_LIMIT must be an integer of at least 0, got "-1"`},

		{"max inflight negative", map[string]string{"MAX_INFLIGHT": "-5"}, `config: MAX_INFLIGHT must be an integer of at least 0, where 0 means no limit, got "-5"`},
		{"key concurrency word", map[string]string{"KEY_CONCURRENCY": "two"}, `config: KEY_CONCURRENCY must be an integer of at least 0, where 0 means no limit, got "two"`},
		{"redis url scheme", map[string]string{"REDIS_URL": "http://127.0.0.1:6379"}, `config: REDIS_URL must start with redis://, rediss:// or unix://`},
		{"redis url port", map[string]string{"REDIS_URL": "redis://user:s3cretpw@host:badport/0"},
			`config: REDIS_URL is not a valid Redis URL: check its host, port, database number and options`},
		{"redis url database", map[string]string{"REDIS_URL": "redis://:s3cretpw@host:6379/first"},
			`config: REDIS_URL is not a valid Redis URL: check its host, port, database number and options`},
		{"admission wait negative", map[string]string{"ADMISSION_WAIT": "-1s"},
			`config: ADMISSION_WAIT must be a duration of 0 or more such as 90s, 5m or 24h, or a whole number of seconds, got "-1s"`},
		{"body bytes unit", map[string]string{"MAX_BODY_BYTES": "10M"},
			`config: MAX_BODY_BYTES must be a positive size in bytes, optionally followed by B, KB, MB, GB, KiB, MiB or GiB, got "10M"`},
		{"body bytes zero", map[string]string{"MAX_BODY_BYTES": "0"},
			`config: MAX_BODY_BYTES must be a positive size in bytes, optionally followed by B, KB, MB, GB, KiB, MiB or GiB, got "0"`},
		{"shutdown grace", map[string]string{"SHUTDOWN_GRACE": "soon"},
			`config: SHUTDOWN_GRACE must be a duration of 0 or more such as 90s, 5m or 24h, or a whole number of seconds, got "soon"`},

		{"metrics", map[string]string{"METRICS_ENABLED": "y"}, `config: METRICS_ENABLED must be a boolean (true/false, 1/0, yes/no, on/off), got "y"`},
		{"metrics key short", map[string]string{"METRICS_KEY": "scrape"},
			"config: METRICS_KEY is shorter than 16 characters; use a long random key, such as the output of openssl rand -hex 32"},
		{"metrics key spaces", map[string]string{"METRICS_KEY": "metrics key 0123456789"}, "config: METRICS_KEY contains spaces"},
		{"metrics addr no port", map[string]string{"METRICS_ADDR": "127.0.0.1"},
			`config: METRICS_ADDR must be empty, or host:port such as 127.0.0.1:9090, got "127.0.0.1"`},
		{"metrics addr port zero", map[string]string{"METRICS_ADDR": "127.0.0.1:0"},
			`config: METRICS_ADDR must be empty, or host:port such as 127.0.0.1:9090, got "127.0.0.1:0"`},
		{"log format", map[string]string{"LOG_FORMAT": "logfmt"}, `config: LOG_FORMAT must be text or json, got "logfmt"`},
		{"playground", map[string]string{"PLAYGROUND_ENABLED": "enable"}, `config: PLAYGROUND_ENABLED must be a boolean (true/false, 1/0, yes/no, on/off), got "enable"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(envOf(tt.env))
			if c != nil {
				t.Errorf("Load returned a Config together with an error")
			}
			var cfgErr *Error
			if !errors.As(err, &cfgErr) {
				t.Fatalf("Load error = %v, want *Error", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLoadReportsAllProblemsSorted(t *testing.T) {
	_, err := Load(envOf(map[string]string{
		"PORT": "x", "AI_KEYS": "", "LOG_FORMAT": "xml", "CHAT_MODELS": "a:b,a:c", "CORS_ORIGINS": "ftp://x",
	}))
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("Load error = %v, want *Error", err)
	}
	var vars []string
	for _, p := range cfgErr.Problems {
		vars = append(vars, p.Variable)
	}
	want := []string{"AI_KEYS", "CHAT_MODELS", "CORS_ORIGINS", "LOG_FORMAT", "PORT"}
	if !slices.Equal(vars, want) {
		t.Errorf("problem variables = %v, want %v", vars, want)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("error has %d lines, want %d:\n%s", len(lines), len(want), err)
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, "config: "+want[i]+" ") {
			t.Errorf("line %d = %q, want it to start with config: %s", i, line, want[i])
		}
	}
}

func TestLoadDefaultModelNotCheckedWhenModelsInvalid(t *testing.T) {
	_, err := Load(envOf(map[string]string{"SUPPORTED_MODELS": "a:", "DEFAULT_IMAGE_MODEL": "a"}))
	if err == nil || strings.Contains(err.Error(), "DEFAULT_IMAGE_MODEL") {
		t.Errorf("error = %v, want only the SUPPORTED_MODELS problem", err)
	}
}

// TestSecretsNeverInErrors feeds malformed secret values and checks that no
// part of them reaches the error text.
func TestSecretsNeverInErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		secrets []string
	}{
		{"repeated fal key", map[string]string{"AI_KEYS": "zq-secret-7781,zq-secret-7781"}, []string{"zq-secret-7781"}},
		{"fal key with space", map[string]string{"AI_KEYS": "zq-good-1234,zq-bad 5678"}, []string{"zq-good-1234", "zq-bad", "5678"}},
		{"fal key alias with control", map[string]string{"AI_KEYS": "", "FAL_KEY": "zq-ctl\x01-9911"}, []string{"zq-ctl", "9911"}},
		{"access key with tab", map[string]string{"CUSTOM_ACCESS_KEY": "zq-access\tkey-4242"}, []string{"zq-access", "key-4242"}},
		{"access key alias with space", map[string]string{"CUSTOM_ACCESS_KEY": "", "API_KEY": "zq-old key-3131"}, []string{"zq-old", "key-3131"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(envOf(tt.env))
			if err == nil {
				t.Fatal("Load accepted a malformed key")
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains secret part %q", err, s)
				}
			}
		})
	}
}

// TestLoadReadsExactlyVariables checks that Load asks getenv for every name
// and alias in Variables and for nothing else, so Variables (and with it the
// README) cannot drift from the code.
func TestLoadReadsExactlyVariables(t *testing.T) {
	asked := map[string]bool{}
	_, _ = Load(func(name string) string { asked[name] = true; return "" })
	want := map[string]bool{}
	for _, v := range Variables {
		want[v.Name] = true
		for _, a := range v.Aliases {
			want[a] = true
		}
	}
	if !maps.Equal(asked, want) {
		t.Errorf("Load read %v,\nVariables list %v", slices.Sorted(maps.Keys(asked)), slices.Sorted(maps.Keys(want)))
	}
}

func TestVariablesWellFormed(t *testing.T) {
	groups := []string{GroupCore, GroupChat, GroupLimits, GroupOps}
	seen := map[string]bool{}
	lastGroup := 0
	for _, v := range Variables {
		for _, n := range append([]string{v.Name}, v.Aliases...) {
			if seen[n] {
				t.Errorf("%s is listed twice", n)
			}
			seen[n] = true
		}
		g := slices.Index(groups, v.Group)
		switch {
		case g < 0:
			t.Errorf("%s: unknown group %q", v.Name, v.Group)
		case g < lastGroup:
			t.Errorf("%s: group %q out of order", v.Name, v.Group)
		default:
			lastGroup = g
		}
		if v.Format == "" || v.Description == "" {
			t.Errorf("%s: Format and Description must be set", v.Name)
		}
		if v.Required && v.Default != "" {
			t.Errorf("%s: a required variable cannot have a default", v.Name)
		}
	}
}

func TestAddr(t *testing.T) {
	c := mustLoad(t, map[string]string{"HOST": "[::1]", "PORT": "9000"})
	if got := c.Addr(); got != "[::1]:9000" {
		t.Errorf("Addr = %q, want [::1]:9000", got)
	}
}

// TestSeparatorKeepsSpace: a separator of white space only is a value
// (Load documents it as not trimmed), not "unset".
func TestSeparatorKeepsSpace(t *testing.T) {
	c := mustLoad(t, map[string]string{"PROMPT_SEPARATOR": "\n\n"})
	if c.PromptSeparator != "\n\n" {
		t.Fatalf("PromptSeparator = %q", c.PromptSeparator)
	}
}

func TestGiven(t *testing.T) {
	for env, want := range map[string]bool{"CUSTOM_ACCESS_KEY": true, "API_KEY": true, "OTHER": false} {
		getenv := func(name string) string {
			if name == env {
				return "sk-given-0123456789"
			}
			return ""
		}
		if got := Given(getenv, "CUSTOM_ACCESS_KEY"); got != want {
			t.Errorf("%s set: Given = %v, want %v", env, got, want)
		}
	}
	if Given(func(string) string { return "  " }, "CUSTOM_ACCESS_KEY") {
		t.Error("white space counts as given")
	}
}
