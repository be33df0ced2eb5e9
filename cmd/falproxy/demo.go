package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
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

// demoVideoModels are the video aliases the demo offers: Sora 2 with its
// image-to-video endpoint (and the remix endpoint found next to them),
// Veo 3.1, and Kling 2.6, whose image field is start_image_url.
const demoVideoModels = "sora-2:fal-ai/sora-2/text-to-video|fal-ai/sora-2/image-to-video," +
	"veo-3.1:fal-ai/veo3.1,kling-2.6:fal-ai/kling-video/v2.6/pro/text-to-video|fal-ai/kling-video/v2.6/pro/image-to-video"

// demoAudioModels are the audio aliases the demo offers: OpenAI's speech
// and transcription model names on the emulator's TTS and STT models.
const demoAudioModels = "tts-1:fal-ai/kokoro/american-english,tts-1-hd:fal-ai/minimax/speech-02-hd," +
	"whisper-1:fal-ai/wizper,whisper-large:fal-ai/whisper"

// demoEmbeddingModels are the embedding aliases the demo offers;
// POST /v1/responses needs none of its own, it serves the chat aliases.
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
		// Every demo model has a price, so that a virtual key with a
		// budget can use them all.
		Prices: falfake.ListPrices,
	})
	if err != nil {
		return fmt.Errorf("falproxy demo: start the fal emulator: %w", err)
	}
	defer fake.Close()

	falKey := "demo-fal-key:" + randomHex(8)
	overrides := map[string]string{
		"AI_KEYS":            falKey,
		"SUPPORTED_MODELS":   demoModels,
		"VIDEO_MODELS":       demoVideoModels,
		"AUDIO_MODELS":       demoAudioModels,
		"EMBEDDING_MODELS":   demoEmbeddingModels,
		"HOST":               "127.0.0.1",
		"FAL_QUEUE_URL":      fake.QueueURL(),
		"FAL_RUN_URL":        fake.RunURL(),
		"FAL_OPENAPI_URL":    fake.OpenAPIURL(),
		"FAL_STORAGE_URL":    fake.StorageURL(),
		"FAL_API_URL":        fake.APIURL(),
		"PLAYGROUND_ENABLED": "true",

		// The emulator speaks h2c (fal's hosts speak HTTP/2) and serves
		// result images from this machine.
		"FAL_H2C":             "true",
		"ALLOW_PRIVATE_MEDIA": "true",
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
  curl -sS %[1]s/v1/images/generations \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d '{"model":"flux-dev","prompt":"a lighthouse at dawn","size":"1024x768"}'

  curl -sS %[1]s/v1/responses \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d '{"model":"openai/gpt-4o","input":"Hello"}'
  curl -sS %[1]s/v1/embeddings \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d '{"model":"text-embedding-3-small","input":"Hello"}'

  curl -sSf %[1]s/v1/audio/speech -o speech.wav \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d '{"model":"tts-1","input":"Hello from fal","voice":"alloy"}'
  curl -sS %[1]s/v1/audio/transcriptions \
    -H "Authorization: Bearer $KEY" -F model=whisper-1 -F file=@speech.wav

  VIDEO_ID=$(curl -sS %[1]s/v1/videos -H "Authorization: Bearer $KEY" \
    -F model=sora-2 -F prompt="a fox in the snow" -F seconds=4 -F size=1280x720 |
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  until curl -s %[1]s/v1/videos/$VIDEO_ID -H "Authorization: Bearer $KEY" |
    grep -Eq '"status":"(completed|failed)"|"error":\{'; do sleep 2; done
  curl -sSf %[1]s/v1/videos/$VIDEO_ID/content -H "Authorization: Bearer $KEY" -o video.mp4

Video models: %[9]s (the playground has a video tab).

To run falproxy serve (with Teams, or as replicas), falproxy models or
falproxy check against this emulator, export these in another shell:

  export CUSTOM_ACCESS_KEY=%[2]s AI_KEYS=%[3]s
  export SUPPORTED_MODELS=%[4]s
  export VIDEO_MODELS='%[10]s'
  export AUDIO_MODELS=%[11]s
  export EMBEDDING_MODELS=%[12]s
  export FAL_QUEUE_URL=%[5]s
  export FAL_RUN_URL=%[6]s
  export FAL_OPENAPI_URL=%[7]s
  export FAL_STORAGE_URL=%[8]s
  export FAL_API_URL=%[13]s
  export FAL_H2C=true ALLOW_PRIVATE_MEDIA=true
  go run ./cmd/falproxy models
  go run ./cmd/falproxy check
  HOST=127.0.0.1 PORT=8001 go run ./cmd/falproxy serve

(The emulator speaks h2c and serves its results from this machine, hence
FAL_H2C and ALLOW_PRIVATE_MEDIA; add ADMIN_KEY and DATABASE_URL for Teams.)

Point any OpenAI client at the base URL with the access key. Ctrl-C stops.

`, base, cfg.AccessKeys[0], falKey, demoModels, fake.QueueURL(), fake.RunURL(), fake.OpenAPIURL(), fake.StorageURL(),
			videoAliases(cfg), demoVideoModels, demoAudioModels, demoEmbeddingModels, fake.APIURL())
	}}
	return serve(ctx, environ, stdout, stderr, hooks)
}

// videoAliases lists the configured video aliases for the banner.
func videoAliases(cfg *config.Config) string {
	aliases := make([]string, len(cfg.VideoModels))
	for i, m := range cfg.VideoModels {
		aliases[i] = m.Alias
	}
	return strings.Join(aliases, ", ")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
