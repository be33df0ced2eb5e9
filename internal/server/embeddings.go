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
	req, ok := decodeBody(s, w, r, embeddings.Decode)
	if !ok {
		return
	}
	falModel, ok := s.models.embedding[req.Model]
	if !ok {
		writeError(w, openai.ModelNotFound(req.Model))
		return
	}
	if e := s.admitLLM(r.Context(), req.Model, chat.Passthrough.String(), falModel); e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := s.modelContext(r, req.Model)
	defer cancel()
	falBody, dropped, err := embeddings.Body(req, falModel)
	if err != nil {
		writeError(w, openai.ServerError("encoding the fal input failed"))
		return
	}
	resp := s.forwardToFal(ctx, w, embeddingsPath, falBody, dropped, false)
	if resp == nil {
		return
	}
	defer resp.Close()
	b, ok := s.readWhole(ctx, w, resp)
	if !ok {
		return
	}
	answer, err := embeddings.Answer(b, req)
	if err != nil {
		writeError(w, malformedAnswer())
		return
	}
	reportAnswerUsage(ctx, answer)
	writeEncoded(w, answer)
}
