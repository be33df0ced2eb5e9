package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// sseData splits a raw text/event-stream body into the data of its events.
// It fails the test unless every event is exactly one "data: " line closed
// by a blank line (the Go SDK silently drops a last event without one);
// comment events (keep-alives) are skipped.
func sseData(t *testing.T, body []byte) []string {
	t.Helper()
	text := string(body)
	if !strings.HasSuffix(text, "\n\n") {
		t.Fatalf("stream does not end with a blank line: %q", text[max(0, len(text)-80):])
	}
	var out []string
	for _, ev := range strings.Split(strings.TrimSuffix(text, "\n\n"), "\n\n") {
		if strings.HasPrefix(ev, ":") {
			continue
		}
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("event is not a single data line: %q", ev)
		}
		out = append(out, data)
	}
	return out
}

// wireChunk is a chat.completion.chunk as it travels, with the fields the
// SDKs read.
type wireChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index        int            `json:"index"`
		Delta        map[string]any `json:"delta"`
		FinishReason *string        `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

// hasKey reports whether key occurs at any depth of a decoded JSON value.
func hasKey(v any, key string) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, el := range x {
			if k == key || hasKey(el, key) {
				return true
			}
		}
	case []any:
		for _, el := range x {
			if hasKey(el, key) {
				return true
			}
		}
	}
	return false
}

// streamChunks decodes the chunk events of a stream that must have ended
// normally: all but the last event are chunks without any "error" key, and
// the last is [DONE].
func streamChunks(t *testing.T, body []byte) []wireChunk {
	t.Helper()
	data := sseData(t, body)
	if len(data) < 2 || data[len(data)-1] != "[DONE]" {
		t.Fatalf("stream does not end with data: [DONE]:\n%s", body)
	}
	chunks := make([]wireChunk, 0, len(data)-1)
	for _, d := range data[:len(data)-1] {
		var obj map[string]any
		var c wireChunk
		if err := json.Unmarshal([]byte(d), &obj); err != nil {
			t.Fatalf("event is not JSON (%v): %s", err, d)
		}
		if hasKey(obj, "error") {
			t.Fatalf("a normal chunk carries an error key, which ends Go SDK streams: %s", d)
		}
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			t.Fatalf("chunk does not decode (%v): %s", err, d)
		}
		chunks = append(chunks, c)
	}
	return chunks
}

// TestChatStreamWire checks the raw SSE of each backend against OpenAI's
// chunk rules, with and without stream_options.include_usage.
func TestChatStreamWire(t *testing.T) {
	for _, b := range chatBackends() {
		for _, includeUsage := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/include_usage=%v", b.name, includeUsage), func(t *testing.T) {
				h := newHarness(t, withBackend(b.name))
				code, hdr, body := h.post(context.Background(), "/v1/chat/completions", fmt.Sprintf(
					`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":%v},"messages":[{"role":"user","content":"count the waves"}]}`,
					includeUsage))
				if code != http.StatusOK {
					t.Fatalf("status %d: %s", code, body)
				}
				if ct := hdr.Get("Content-Type"); ct != "text/event-stream" {
					t.Fatalf("Content-Type %q", ct)
				}
				chunks := streamChunks(t, body)
				checkChunkSequence(t, chunks, includeUsage, b.usage)
			})
		}
	}
}

// checkChunkSequence checks the order and shape of a successful stream's
// chunks: one id and created throughout, the role first, content deltas,
// one finish chunk, then a usage chunk with no choices exactly when asked.
func checkChunkSequence(t *testing.T, chunks []wireChunk, includeUsage, backendUsage bool) {
	t.Helper()
	first := chunks[0]
	if first.ID == "" || first.Created == 0 || first.Model == "" {
		t.Fatalf("first chunk lacks id, created or model: %+v", first)
	}
	if len(first.Choices) != 1 || first.Choices[0].Delta["role"] != "assistant" {
		t.Fatalf("first chunk has no assistant role: %+v", first)
	}
	body := chunks
	if includeUsage {
		last := chunks[len(chunks)-1]
		if last.Choices == nil || len(last.Choices) != 0 || last.Usage == nil {
			t.Fatalf("usage chunk must have choices [] and usage: %+v", last)
		}
		if backendUsage && last.Usage.TotalTokens == 0 {
			t.Errorf("usage chunk is empty although the backend reports usage: %+v", last.Usage)
		}
		body = chunks[:len(chunks)-1]
	}
	var text strings.Builder
	for i, c := range chunks {
		if c.ID != first.ID || c.Created != first.Created || c.Model != first.Model || c.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %d changes id, created, model or object: %+v, first %+v", i, c, first)
		}
	}
	for i, c := range body {
		if len(c.Choices) != 1 || c.Choices[0].Index != 0 {
			t.Fatalf("chunk %d: want one choice of index 0: %+v", i, c)
		}
		if c.Usage != nil {
			t.Errorf("chunk %d carries usage before the usage chunk", i)
		}
		finish := c.Choices[0].FinishReason
		if (finish != nil) != (i == len(body)-1) {
			t.Fatalf("chunk %d of %d has finish_reason %v: only the last choice chunk may", i, len(body), finish)
		}
		if s, ok := c.Choices[0].Delta["content"].(string); ok {
			text.WriteString(s)
		}
	}
	if f := body[len(body)-1].Choices[0]; *f.FinishReason != "stop" || len(f.Delta) != 0 {
		t.Errorf("finish chunk: reason %q, delta %v", *f.FinishReason, f.Delta)
	}
	if !strings.HasSuffix(text.String(), "count the waves") || len(body) < 4 {
		t.Errorf("%d content chunks add up to %q", len(body), text.String())
	}
}
