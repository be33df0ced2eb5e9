package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/falfake"
)

// demoModels are the image aliases the demo offers; each is served by the
// emulator with a schema of the same family as fal's real endpoint.
// flux-fill takes a mask, for the SDKs' masked edits.
const demoModels = "flux-dev:fal-ai/flux/dev,flux-schnell:fal-ai/flux/schnell," +
	"dall-e-3:fal-ai/flux/dev,gpt-image-1:fal-ai/gpt-image-1/text-to-image," +
	"flux-ultra:fal-ai/flux-pro/v1.1-ultra,imagen4:fal-ai/imagen4/preview," +
	"ideogram-v2:fal-ai/ideogram/v2,recraft-v3:fal-ai/recraft/v3/text-to-image," +
	"seedream-v4:fal-ai/bytedance/seedream/v4/text-to-image,sdxl:fal-ai/fast-sdxl," +
	"kontext:fal-ai/flux-pro/kontext,seedream-edit:fal-ai/bytedance/seedream/v4/edit," +
	"flux-fill:fal-ai/flux-pro/v1/fill"

// demoEmbeddingModels are the embedding aliases the demo offers.
const demoEmbeddingModels = "text-embedding-3-small:openai/text-embedding-3-small"

// demo serves falproxy against the built-in fal emulator on loopback, so
// that it can be tried with no fal account at all. It keeps the access key
// of CUSTOM_ACCESS_KEY (or API_KEY) from the environment or .env, so that
// the key stays the same from run to run; without one it makes a key.
func demo(ctx context.Context, environ func(string) (string, bool), stdout, stderr io.Writer) error {
	getenv, err := configEnv(environ)
	if err != nil {
		return err
	}
	fake, err := falfake.New(falfake.Options{
		GenerationTime: time.Second,
		TokenDelay:     20 * time.Millisecond,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return fmt.Errorf("falproxy demo: start the fal emulator: %w", err)
	}
	defer fake.Close()

	falKey := "demo-fal-key:" + randomHex(8)
	overrides := map[string]string{
		"AI_KEYS":            falKey,
		"SUPPORTED_MODELS":   demoModels,
		"HOST":               "127.0.0.1",
		"FAL_QUEUE_URL":      fake.QueueURL(),
		"FAL_RUN_URL":        fake.RunURL(),
		"FAL_OPENAPI_URL":    fake.OpenAPIURL(),
		"FAL_STORAGE_URL":    fake.StorageURL(),
		"PLAYGROUND_ENABLED": "true",

		// The emulator speaks h2c (fal's hosts speak HTTP/2) and serves
		// result images from this machine.
		"FAL_H2C":             "true",
		"ALLOW_PRIVATE_MEDIA": "true",

		// POST /v1/responses needs no alias of its own (it serves the chat
		// aliases); embeddings do.
		"EMBEDDING_MODELS": demoEmbeddingModels,
	}
	if !config.Given(getenv, "CUSTOM_ACCESS_KEY") {
		overrides["CUSTOM_ACCESS_KEY"] = "sk-demo-" + randomHex(16)
	}
	hooks := &serveHooks{overrides: overrides, listening: func(base string, cfg *config.Config) {
		fmt.Fprintf(stdout, `
falproxy demo: serving the built-in fal emulator (no fal key needed)

  base URL    %[1]s/v1
  access key  %[2]s
  playground  %[1]s/

Try it, in another shell:

  export KEY=%[2]s
  curl -s %[1]s/v1/images/generations \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d '{"model":"flux-dev","prompt":"a lighthouse at dawn","size":"1024x768"}'
  curl -s %[1]s/v1/responses \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d '{"model":"openai/gpt-4o","input":"Hello"}'
  curl -s %[1]s/v1/embeddings \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d '{"model":"text-embedding-3-small","input":"Hello"}'

To try falproxy models or falproxy check against the emulator:

  export CUSTOM_ACCESS_KEY=%[2]s AI_KEYS=%[3]s
  export SUPPORTED_MODELS=%[4]s
  export FAL_QUEUE_URL=%[5]s
  export FAL_RUN_URL=%[6]s
  export FAL_OPENAPI_URL=%[7]s
  export FAL_STORAGE_URL=%[8]s
  go run ./cmd/falproxy models
  go run ./cmd/falproxy check

Point any OpenAI client at the base URL with the access key. Ctrl-C stops.

`, base, cfg.AccessKeys[0], falKey, demoModels, fake.QueueURL(), fake.RunURL(), fake.OpenAPIURL(), fake.StorageURL())
	}}
	return serve(ctx, environ, stdout, stderr, hooks)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
