package server

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/falproxy/falproxy/internal/openai"
)

// The handlers that know an answer's measures report them here, as fal
// reported them or as falproxy estimated them where fal reported none:
// they settle the request's cost (see settled).

// reportUsage notes the tokens of a chat answer.
func reportUsage(ctx context.Context, u *openai.Usage) {
	if u != nil {
		reportTokens(ctx, max(u.TotalTokens, u.PromptTokens+u.CompletionTokens))
	}
}

// reportAnswerUsage notes the tokens of the "usage" object of a whole
// answer or of one stream chunk (chat completions, responses or
// embeddings): its total, or the sum of its parts. Chunks without usage
// are passed over without being decoded.
func reportAnswerUsage(ctx context.Context, answer []byte) {
	if !bytes.Contains(answer, []byte(`"usage"`)) {
		return
	}
	var a struct {
		Usage *struct {
			TotalTokens      int `json:"total_tokens"`
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			InputTokens      int `json:"input_tokens"`
			OutputTokens     int `json:"output_tokens"`
		} `json:"usage"`
	}
	if json.Unmarshal(answer, &a) != nil || a.Usage == nil {
		return
	}
	u := a.Usage
	reportTokens(ctx, max(u.TotalTokens, u.PromptTokens+u.CompletionTokens+u.InputTokens+u.OutputTokens))
}

// reportTokens notes the tokens an answer used; the last report stands.
func reportTokens(ctx context.Context, n int) {
	if n > 0 {
		report(ctx, func(w *falWork) { w.tokens = n })
	}
}

// reportHeard notes the seconds of audio a transcription covers.
func reportHeard(ctx context.Context, secs float64) {
	if secs > 0 {
		report(ctx, func(w *falWork) { w.seconds = secs })
	}
}

// report notes what a handler learnt of the fal work done for its request.
func report(ctx context.Context, note func(*falWork)) {
	ri := infoFrom(ctx)
	ri.mu.Lock()
	defer ri.mu.Unlock()
	note(&ri.work)
}
