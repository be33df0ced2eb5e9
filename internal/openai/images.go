package openai

import "encoding/json"

// ImageGenerationRequest is the body of POST /v1/images/generations.
// Every optional field may also arrive as JSON null, which means "default".
// Fields the proxy does not know are kept in Extra so that model-specific
// inputs (guidance_scale, negative_prompt, ...) can pass through to fal.
type ImageGenerationRequest struct {
	Prompt            string `json:"prompt"`
	Model             string `json:"model,omitempty"`
	N                 *int   `json:"n,omitempty"`
	Size              string `json:"size,omitempty"`
	Quality           string `json:"quality,omitempty"`
	Style             string `json:"style,omitempty"`
	ResponseFormat    string `json:"response_format,omitempty"`
	OutputFormat      string `json:"output_format,omitempty"`
	OutputCompression *int   `json:"output_compression,omitempty"`
	Background        string `json:"background,omitempty"`
	Moderation        string `json:"moderation,omitempty"`
	User              string `json:"user,omitempty"`
	Stream            bool   `json:"stream,omitempty"`
	// Seed is not in OpenAI's schema but every fal model that has a seed
	// takes it, and many clients send it.
	Seed *int64 `json:"seed,omitempty"`

	// Extra holds every other top-level field, raw, keyed by name.
	Extra map[string]json.RawMessage `json:"-"`
}

// ImagesResponse is the answer to generations and edits.
type ImagesResponse struct {
	Created int64   `json:"created"`
	Data    []Image `json:"data"`
}

// Image is one generated image: either URL or B64JSON is set.
type Image struct {
	URL           string `json:"url,omitempty"`
	B64JSON       string `json:"b64_json,omitempty"`
	RevisedPrompt string `json:"revised_prompt,omitempty"`
}
