package server

import (
	"bytes"
	"context"
	"encoding/json"
	"math"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/openai"
)

// The handlers that know an answer's measures report them here, as fal
// reported them or as falproxy estimated them where fal reported none:
// they settle the request's cost (see settled).

// reportFalUsage notes the usage of an answer of a folding chat backend:
// u as the client is told it, and the cost openrouter/router reported
// with its tokens (usage.cost), which settles the request.
func reportFalUsage(ctx context.Context, u *openai.Usage, fal *chat.FalUsage) {
	w := usageWork(u, fal)
	reportTokens(ctx, w.tokens, w.outputTokens, w.costMicros)
}

// usageWork is the work an answer of a folding chat backend reports: the
// tokens of u, and the cost fal reported with them (fal may be nil).
func usageWork(u *openai.Usage, fal *chat.FalUsage) falWork {
	var w falWork
	if u == nil {
		return w
	}
	w.tokens, w.outputTokens = max(u.TotalTokens, u.PromptTokens+u.CompletionTokens), u.CompletionTokens
	if fal != nil && fal.Cost > 0 {
		w.costMicros = usdToMicros(fal.Cost)
	}
	return w
}

// usdToMicros turns a cost fal reported in USD into micro-dollars.
func usdToMicros(usd float64) int64 { return max(int64(math.Round(usd*1e6)), 0) }

// reportAnswerUsage notes the tokens of the "usage" object of a whole
// answer or of one stream chunk (chat completions, responses or
// embeddings): its total, or the sum of its parts, and the cost in USD
// OpenRouter adds to it. Chunks without usage, or with `"usage":null` as
// every chunk of a stream asked with include_usage has, are passed over
// without being decoded.
func reportAnswerUsage(ctx context.Context, answer []byte) {
	if !mayCarryUsage(answer) {
		return
	}
	var a struct {
		Usage *answerUsage `json:"usage"`
	}
	if json.Unmarshal(answer, &a) != nil {
		return
	}
	a.Usage.report(ctx)
}

// reportUsageMembers is reportAnswerUsage for an answer whose "usage"
// members are known (see chat.PassthroughAnswer): it decodes them, in
// order, as json.Unmarshal would decode them in the whole answer, and not
// the rest of the answer.
func reportUsageMembers(ctx context.Context, answer []byte, usage []json.RawMessage) {
	if !mayCarryUsage(answer) {
		return
	}
	var u *answerUsage
	for _, m := range usage {
		if json.Unmarshal(m, &u) != nil {
			return
		}
	}
	u.report(ctx)
}

// answerUsage is the "usage" object of an answer or a stream chunk.
type answerUsage struct {
	TotalTokens      int     `json:"total_tokens"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	InputTokens      int     `json:"input_tokens"`
	OutputTokens     int     `json:"output_tokens"`
	Cost             float64 `json:"cost"`
}

// report notes the tokens of u, nil when the answer has no usage: its
// total, or the sum of its parts, and the cost in USD.
func (u *answerUsage) report(ctx context.Context) {
	if u == nil {
		return
	}
	reportTokens(ctx, max(u.TotalTokens, u.PromptTokens+u.CompletionTokens+u.InputTokens+u.OutputTokens),
		u.CompletionTokens+u.OutputTokens, usdToMicros(u.Cost))
}

// mayCarryUsage reports whether answer may hold a usage object: it has a
// "usage" key whose value is not null. Inside a JSON string a quote is
// escaped, so the bytes "usage" followed by a colon are a key.
func mayCarryUsage(answer []byte) bool {
	i := bytes.Index(answer, []byte(`"usage"`))
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(answer[i+len(`"usage"`):], " \t\r\n")
	rest, ok := bytes.CutPrefix(rest, []byte(":"))
	return !ok || !bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte("null"))
}

// reportTokens notes the tokens an answer used, those of them the model
// wrote, and the cost fal reported (micro-dollars, 0 when it did not);
// the last report stands.
func reportTokens(ctx context.Context, n, output int, costMicros int64) {
	if n > 0 {
		report(ctx, func(w *falWork) { w.tokens, w.outputTokens, w.costMicros = n, output, costMicros })
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
