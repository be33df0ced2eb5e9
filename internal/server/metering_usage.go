package server

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strconv"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/jsonscan"
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
// without being read. It reports whether it charged tokens.
func reportAnswerUsage(ctx context.Context, answer []byte) (measured bool) {
	if !mayCarryUsage(answer) {
		return false
	}
	u, ok := readAnswerUsage(answer)
	if !ok {
		return false
	}
	u.report(ctx)
	return u.tokens() > 0
}

// readAnswerUsage reads the usage of an answer or a chunk as json.Unmarshal
// reads it into a struct with a "usage" field, from the members whose
// names it matches (regardless of case), without decoding the rest. ok is
// false when the answer has none, when json.Unmarshal would fail, and
// when the answer is not an object.
func readAnswerUsage(answer []byte) (_ answerUsage, ok bool) {
	if !json.Valid(answer) {
		return answerUsage{}, false
	}
	var members [1]json.RawMessage
	usage := members[:0]
	if isObject, err := jsonscan.EachMember(answer, func(name, value []byte) error {
		if bytes.EqualFold(name, []byte("usage")) {
			usage = append(usage, value)
		}
		return nil
	}); !isObject || err != nil {
		return answerUsage{}, false
	}
	return readUsageMembers(usage)
}

// reportUsageMembers is reportAnswerUsage for an answer whose "usage"
// members are known (see chat.PassthroughAnswer): it reads them, not the
// rest of the answer.
func reportUsageMembers(ctx context.Context, usage []json.RawMessage) {
	if u, ok := readUsageMembers(usage); ok {
		u.report(ctx)
	}
}

// readUsageMembers reads the members an answer has for its usage as
// json.Unmarshal would read them in the whole answer, in order: an object
// read into the usage so far (a new one after null), null clearing it. ok
// is false when the answer has none left, and when json.Unmarshal would
// fail. Objects of plain names and numbers, as fal writes them, are read
// without encoding/json's reflection.
func readUsageMembers(usage []json.RawMessage) (_ answerUsage, ok bool) {
	var u answerUsage
	present := false
	for _, m := range usage {
		if bytes.Equal(bytes.TrimSpace(m), []byte("null")) {
			present = false
			continue
		}
		if !present {
			u, present = answerUsage{}, true
		}
		if !u.readPlain(m) && u.decode(m) != nil {
			return answerUsage{}, false
		}
	}
	return u, present
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

// report notes the tokens of u: its total, or the sum of its parts, and
// the cost in USD.
func (u *answerUsage) report(ctx context.Context) {
	reportTokens(ctx, u.tokens(), u.CompletionTokens+u.OutputTokens, usdToMicros(u.Cost))
}

// tokens is u's total, or the sum of its parts when that is more.
func (u *answerUsage) tokens() int {
	return max(u.TotalTokens, u.PromptTokens+u.CompletionTokens+u.InputTokens+u.OutputTokens)
}

// mayCarryUsage reports whether answer may hold a usage object: it has a
// "usage" key whose value is not null. Inside a JSON string a quote is
// escaped, so the bytes "usage" followed by a colon are a key. Every such
// key is looked at: one nested deeper (a message's "usage":null) may come
// before the answer's own.
func mayCarryUsage(answer []byte) bool {
	for {
		i := bytes.Index(answer, []byte(`"usage"`))
		if i < 0 {
			return false
		}
		answer = answer[i+len(`"usage"`):]
		rest, ok := bytes.CutPrefix(bytes.TrimLeft(answer, " \t\r\n"), []byte(":"))
		if !ok || !bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte("null")) {
			return true
		}
	}
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

// decode reads the usage object raw into u with encoding/json, into a copy
// of u that alone goes to the heap.
func (u *answerUsage) decode(raw []byte) error {
	v := *u
	err := json.Unmarshal(raw, &v)
	*u = v
	return err
}

// answerUsageNames are the names of answerUsage's members: its counts, in
// order, then "cost".
var answerUsageNames = []string{"total_tokens", "prompt_tokens", "completion_tokens", "input_tokens", "output_tokens", "cost"}

// readPlain reads the usage object raw into u as json.Unmarshal would,
// when its names are ASCII and its counts integers (its cost a number), or
// null, which leaves a number as it is; false, u unchanged, for any other
// value.
func (u *answerUsage) readPlain(raw []byte) bool {
	v := *u
	counts := [...]*int{&v.TotalTokens, &v.PromptTokens, &v.CompletionTokens, &v.InputTokens, &v.OutputTokens}
	ok, err := jsonscan.EachField(raw, answerUsageNames, func(i int, value []byte) error {
		if string(value) == "null" {
			return nil
		}
		if i == len(counts) {
			f, err := strconv.ParseFloat(string(value), 64)
			v.Cost = f
			return err
		}
		n, err := strconv.ParseInt(string(value), 10, 64)
		*counts[i] = int(n)
		return err
	})
	if !ok || err != nil {
		return false
	}
	*u = v
	return true
}
