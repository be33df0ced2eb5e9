package main

import (
	"context"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/server"
)

// inspectDeadline bounds the schema look-ups of `models` and `check`, so
// that an unreachable fal makes them fail instead of hang.
const inspectDeadline = 20 * time.Second

// report is what falproxy knows of every configured model, as `models`
// prints it and `check` judges it.
type report struct {
	ImageModels []server.ImageModelInfo `json:"image_models"`
	ChatModels  []server.ChatModelInfo  `json:"chat_models"`
	// ChatBackend is CHAT_ENDPOINT, which serves every chat model.
	ChatBackend string `json:"chat_backend"`
	// DefaultImageModel is the alias used when a request names no model.
	DefaultImageModel string `json:"default_image_model,omitempty"`
	// VideoModels are the aliases of /v1/videos.
	VideoModels []server.VideoModelInfo `json:"video_models,omitempty"`
	// AudioModels describe the aliases of AUDIO_MODELS.
	AudioModels []server.AudioModelInfo `json:"audio_models,omitempty"`
	// EmbeddingModels are the aliases of /v1/embeddings, if any.
	EmbeddingModels []server.EmbeddingModelInfo `json:"embedding_models,omitempty"`
}

// failed counts the image models whose schema could not be fetched.
func (r *report) failed() int {
	n := 0
	for _, m := range r.ImageModels {
		if m.Error != "" {
			n++
		}
	}
	return n
}

// inspect fetches the schema of every image alias concurrently (aliases
// of one endpoint share a fetch) and describes each model exactly as the
// server would drive it. Errors are redacted with the configuration's keys.
func inspect(ctx context.Context, cfg *config.Config) *report {
	hc := fal.NewHTTPClient()
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, inspectDeadline)
	defer cancel()
	store := falschema.NewStore(falschema.StoreOptions{
		URL:          cfg.OpenAPIURL,
		HTTP:         hc,
		TTL:          cfg.SchemaTTL,
		FetchTimeout: inspectDeadline,
	})
	opt := images.Options{SafetyChecker: cfg.SafetyChecker}

	r := &report{
		ImageModels:       make([]server.ImageModelInfo, len(cfg.ImageModels)),
		ChatModels:        make([]server.ChatModelInfo, len(cfg.ChatModels)),
		ChatBackend:       cfg.ChatBackend.String(),
		DefaultImageModel: cfg.DefaultImageModel,
	}
	var wg sync.WaitGroup
	for i, m := range cfg.ImageModels {
		wg.Go(func() {
			info, err := server.InspectImage(ctx, store, m, opt)
			if err != nil {
				info.Error = cfg.Redact(err.Error())
			}
			r.ImageModels[i] = info
		})
	}
	for i, m := range cfg.ChatModels {
		r.ChatModels[i] = server.InspectChat(m, cfg.ChatBackend)
	}
	r.inspectVideos(ctx, store, cfg)
	r.AudioModels = make([]server.AudioModelInfo, len(cfg.AudioModels))
	for i, m := range cfg.AudioModels {
		wg.Go(func() {
			info, err := server.InspectAudio(ctx, store, m)
			if err != nil {
				info.Error = cfg.Redact(err.Error())
			}
			r.AudioModels[i] = info
		})
	}
	for _, m := range cfg.EmbeddingModels {
		r.EmbeddingModels = append(r.EmbeddingModels, server.InspectEmbedding(m))
	}
	wg.Wait()
	return r
}
