package server

import (
	"net/http"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/embeddings"
	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/registry"
)

// embeddingsPath is fal's OpenAI-compatible embeddings route.
var embeddingsPath = chat.Passthrough.String() + "/embeddings"

// EmbeddingModelInfo describes an embedding alias, for GET
// /v1/models/{model} (under "fal") and `falproxy models`.
type EmbeddingModelInfo struct {
	Kind     registry.Kind `json:"kind"`
	Alias    string        `json:"alias,omitempty"`
	Model    string        `json:"model"`
	Endpoint string        `json:"endpoint"`
}

// InspectEmbedding describes m: the fal model id and the route serving it.
func InspectEmbedding(m registry.EmbeddingModel) EmbeddingModelInfo {
	return EmbeddingModelInfo{Kind: registry.Embedding, Alias: m.Alias, Model: m.Model, Endpoint: embeddingsPath}
}

// handleEmbeddings forwards an embeddings request to fal's
// OpenAI-compatible route with the fal model id, through the key pool
// (rotation and failover as for chat), and relays the answer under the
// client's model name in the encoding it asked for.
func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	req, e := embeddings.Decode(body)
	if e != nil {
		writeError(w, e)
		return
	}
	falModel, ok := s.models.embedding[req.Model]
	if !ok {
		writeError(w, openai.ModelNotFound(req.Model))
		return
	}
	ri := infoFrom(r.Context())
	ri.set(req.Model, "")
	ctx, cancel := s.jobContext(r)
	defer cancel()
	ctx = s.withPriority(ctx, req.Model)
	falBody, err := embeddings.Body(req, falModel)
	if err != nil {
		writeError(w, openai.ServerError("encoding the fal input failed"))
		return
	}
	if dropped := embeddings.Dropped(req); len(dropped) > 0 {
		s.log.Debug("request fields not forwarded to fal", "request_id", ri.ID, "fields", dropped)
	}
	resp, err := s.opt.Fal.Post(ctx, embeddingsPath, falBody, "")
	if err != nil {
		if !cancelled(ctx) {
			writeError(w, s.logUpstream(ctx, err, passthroughError(err)))
		}
		return
	}
	defer resp.Close()
	ri.set("", resp.RequestID)
	b, err := resp.ReadAll()
	if err != nil {
		if !cancelled(ctx) {
			writeError(w, s.failUpstream(ctx, err))
		}
		return
	}
	answer, err := embeddings.Answer(b, req, req.Model)
	if err != nil {
		writeError(w, malformedAnswer())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}
