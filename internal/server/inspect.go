package server

import (
	"context"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/images"
	"github.com/falproxy/falproxy/internal/registry"
)

// ImageModelInfo is what falproxy knows of an image model at fal: its
// endpoint and a summary of the endpoint's schema, or why the schema could
// not be had. GET /v1/models/{model} returns it as "fal" (without the
// alias, which is the model's id there); `falproxy models` and `falproxy
// check` print it for every alias.
type ImageModelInfo struct {
	Alias    string `json:"alias,omitempty"`
	Endpoint string `json:"endpoint"`
	// Kind is registry.Edit for a model whose schema requires an input
	// image, else registry.Image (also when the schema could not be had).
	Kind         registry.Kind       `json:"kind"`
	Capabilities *images.Description `json:"capabilities,omitempty"`
	// Error says why the schema could not be had, in the words the
	// caller chose for its reader (see InspectImage).
	Error string `json:"error,omitempty"`
}

// ChatModelInfo is where falproxy sends a chat model: the model id fal's
// LLM endpoints take and the backend (CHAT_ENDPOINT) that serves it.
type ChatModelInfo struct {
	Kind    registry.Kind `json:"kind"`
	Alias   string        `json:"alias,omitempty"`
	Model   string        `json:"model"`
	Backend string        `json:"backend"`
}

// InspectImage fetches m's schema through store (from its cache while
// fresh) and summarises it. When the fetch fails the info still names the
// model, and the error is returned for the caller to put in Error in its
// reader's terms: an operator sees the cause, an HTTP client words.
func InspectImage(ctx context.Context, store *falschema.Store, m registry.ImageModel, opt images.Options) (ImageModelInfo, error) {
	info := ImageModelInfo{Alias: m.Alias, Endpoint: m.Endpoint, Kind: registry.Image}
	caps, err := store.Get(ctx, m.Endpoint)
	if err != nil {
		return info, err
	}
	info.Capabilities = images.Describe(caps, opt)
	info.Kind = imageKind(caps)
	return info, nil
}

// InspectChat describes a chat model served by backend.
func InspectChat(m registry.ChatModel, backend chat.Backend) ChatModelInfo {
	return ChatModelInfo{Kind: registry.Chat, Alias: m.Alias, Model: m.Model, Backend: backend.String()}
}

// imageKind is what an image model's schema makes it: Edit when it
// requires an input image, Image otherwise.
func imageKind(caps *falschema.Capabilities) registry.Kind {
	if images.CanGenerate(caps) {
		return registry.Image
	}
	return registry.Edit
}

// planOptions are the operator's settings for image plans.
func (s *Server) planOptions() images.Options {
	return images.Options{SafetyChecker: s.opt.SafetyChecker}
}
