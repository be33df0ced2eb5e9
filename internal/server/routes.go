package server

import "net/http"

// routes is the whole API surface of falproxy, in one place.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	exact := &exactRoutes{mux: mux}
	auth := func(h http.HandlerFunc) http.Handler { return s.authenticate(h) }
	// work marks routes that run fal jobs: authenticated, their body read
	// whole, admitted to a MAX_INFLIGHT slot, then held to the key's
	// limits, so that a request waiting for a slot holds none of its
	// key's rate, concurrency or budget, and one refused a slot costs its
	// key nothing.
	work := func(h http.HandlerFunc) http.Handler { return s.authenticate(s.bufferBody(s.limit(s.meter(h)))) }

	exact.handleGET("/health", http.HandlerFunc(s.handleHealth))
	if s.opt.Metrics != nil && !s.opt.MetricsElsewhere {
		mux.Handle("GET /metrics", metricsEndpoint(s.opt.Metrics, s.opt.MetricsKey))
	}
	exact.handleGET("/v1/models", auth(s.handleListModels))
	mux.Handle("GET /v1/models/{model...}", auth(s.handleGetModel))
	mux.Handle("POST /v1/images/generations", work(s.handleImageGeneration))
	mux.Handle("POST /v1/images/edits", work(s.handleImageEdit))
	mux.Handle("POST /v1/chat/completions", work(s.handleChat))
	mux.Handle("POST /v1/videos", work(s.handleCreateVideo))
	mux.Handle("GET /v1/videos", auth(s.handleListVideos))
	mux.Handle("GET /v1/videos/{id}", auth(s.handleGetVideo))
	mux.Handle("DELETE /v1/videos/{id}", auth(s.handleDeleteVideo))
	mux.Handle("GET /v1/videos/{id}/content", auth(s.handleVideoContent))
	mux.Handle("POST /v1/videos/{id}/remix", work(s.handleRemixVideo))
	mux.Handle("POST /v1/audio/speech", work(s.handleSpeech))
	mux.Handle("POST /v1/audio/transcriptions", work(s.handleTranscription))
	mux.Handle("POST /v1/audio/translations", work(s.handleTranslation))
	// The audio listings show only aliases and voice ids, and Open WebUI
	// asks for them without a key: they are public.
	mux.HandleFunc("GET /v1/audio/models", s.handleAudioModels)
	mux.HandleFunc("GET /v1/audio/voices", s.handleAudioVoices)
	mux.Handle("POST /v1/responses", work(s.handleResponses))
	mux.Handle("GET /v1/responses/{id}", auth(s.handleGetResponse))
	mux.Handle("DELETE /v1/responses/{id}", auth(s.handleDeleteResponse))
	mux.Handle("GET /v1/responses/{id}/input_items", auth(s.handleResponseInputItems))
	mux.Handle("POST /v1/responses/{id}/cancel", auth(s.handleCancelResponse))
	mux.Handle("POST /v1/embeddings", work(s.handleEmbeddings))
	s.adminRoutes(mux)
	if s.opt.Playground {
		mux.HandleFunc("GET /{$}", s.handlePlayground)
		mux.HandleFunc("GET /playground/{file}", s.handlePlaygroundAsset)
	}
	mux.HandleFunc("/", handleNotFound)

	return chain(exact,
		withRequestID,
		withAccessLog(s.log, s.opt.Metrics),
		withRecovery(s.log),
		withCORS(s.opt.CORSOrigins),
		withShutdownAnswer,
	)
}
