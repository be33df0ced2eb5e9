package server

import "net/http"

// routes is the whole API surface of falproxy, in one place.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.Handler { return requireKey(s.keys, h) }

	mux.HandleFunc("GET /health", s.handleHealth)
	mux.Handle("GET /v1/models", auth(s.handleListModels))
	mux.Handle("GET /v1/models/{model...}", auth(s.handleGetModel))
	mux.Handle("POST /v1/images/generations", auth(s.handleImageGeneration))
	mux.Handle("POST /v1/chat/completions", auth(s.handleChat))
	mux.HandleFunc("/", s.handleNotFound)

	return chain(mux,
		withRequestID,
		withAccessLog(s.log),
		withRecovery(s.log),
		withCORS(s.opt.CORSOrigins),
	)
}
