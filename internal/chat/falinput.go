package chat

import (
	"fmt"
	"strings"

	"github.com/falproxy/falproxy/internal/openai"
)

// Backend is the fal LLM app that serves chat, as CHAT_ENDPOINT names it.
// Router and AnyLLM take the same folded input and return the same output
// (openrouter/router adds usage); Passthrough forwards the OpenAI request.
type Backend int

const (
	// Router is openrouter/router, fal's current LLM endpoint: any
	// OpenRouter model id, billed per token. It is the zero value.
	Router Backend = iota
	// AnyLLM is fal-ai/any-llm, the deprecated endpoint the seed proxy
	// used, with a fixed list of models.
	AnyLLM
	// Passthrough is openrouter/router/openai/v1, fal's OpenAI-compatible
	// chat route: the request is forwarded, not folded.
	Passthrough
)

// backends lists every backend in documentation order.
var backends = []Backend{Router, AnyLLM, Passthrough}

// String returns the fal endpoint id of b.
func (b Backend) String() string {
	switch b {
	case AnyLLM:
		return "fal-ai/any-llm"
	case Passthrough:
		return "openrouter/router/openai/v1"
	}
	return "openrouter/router"
}

// ParseBackend reads a backend from its endpoint id, ignoring letter case
// ("openrouter/router", "fal-ai/any-llm", "openrouter/router/openai/v1"),
// or from the short name of a folding backend ("router", "any-llm").
func ParseBackend(s string) (Backend, error) {
	switch strings.ToLower(s) {
	case "router":
		return Router, nil
	case "any-llm":
		return AnyLLM, nil
	}
	for _, b := range backends {
		if strings.EqualFold(s, b.String()) {
			return b, nil
		}
	}
	return Router, fmt.Errorf("unknown chat backend %q: want one of %s", s, strings.Join(BackendIDs(), ", "))
}

// BackendIDs lists the endpoint ids of the backends.
func BackendIDs() []string {
	ids := make([]string, len(backends))
	for i, b := range backends {
		ids[i] = b.String()
	}
	return ids
}

// Endpoint returns the fal endpoint path for a request: the backend's id,
// with "/vision" when images are sent and "/stream" for streaming, e.g.
// "openrouter/router/vision/stream".
func Endpoint(backend Backend, vision, stream bool) string {
	p := backend.String()
	if vision {
		p += "/vision"
	}
	if stream {
		p += "/stream"
	}
	return p
}

// FalInput builds the input of a fal LLM call from the request and its
// folded messages:
//
//   - model: req.Model, which the server has already resolved to a fal model
//     id (any-llm falls back to its default model when it is empty; the
//     router requires it, so it is always sent there);
//   - prompt, and system_prompt when not empty;
//   - reasoning: true when req.Reasoning is true or req.ReasoningEffort is
//     set to anything but "none"; left out otherwise (fal's default is off);
//   - temperature when set;
//   - max_tokens from max_completion_tokens, else max_tokens, when set;
//   - image_urls when the messages held images (for the /vision endpoint).
//
// Values are passed on unchecked: fal validates ranges and answers 422.
func FalInput(req *openai.ChatRequest, f Folded, backend Backend) map[string]any {
	in := make(map[string]any, 7)
	if req.Model != "" || backend == Router {
		in["model"] = req.Model
	}
	in["prompt"] = f.Prompt
	if f.SystemPrompt != "" {
		in["system_prompt"] = f.SystemPrompt
	}
	if wantsReasoning(req) {
		in["reasoning"] = true
	}
	if req.Temperature != nil {
		in["temperature"] = *req.Temperature
	}
	if n := maxTokens(req); n != nil {
		in["max_tokens"] = *n
	}
	if len(f.ImageURLs) > 0 {
		in["image_urls"] = f.ImageURLs
	}
	return in
}

// wantsReasoning reports whether the client asked for reasoning, with the
// seed's boolean or OpenAI's reasoning_effort.
func wantsReasoning(req *openai.ChatRequest) bool {
	if req.Reasoning != nil && *req.Reasoning {
		return true
	}
	return req.ReasoningEffort != "" && req.ReasoningEffort != "none"
}

// maxTokens prefers max_completion_tokens, OpenAI's current name, over the
// deprecated max_tokens.
func maxTokens(req *openai.ChatRequest) *int {
	if req.MaxCompletionTokens != nil {
		return req.MaxCompletionTokens
	}
	return req.MaxTokens
}
