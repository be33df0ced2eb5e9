package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"
)

// TestHTTP1Upstream runs the main paths (image URLs, images downloaded for
// b64_json or sent inline by sync_mode, every chat backend whole and
// streamed) against a fal upstream that speaks HTTP/1.1 only, as an egress
// proxy or TLS sidecar in front of fal does.
func TestHTTP1Upstream(t *testing.T) {
	http1 := func(s *setup) { s.http1 = true }
	ctx := context.Background()

	t.Run("images", func(t *testing.T) {
		h := newHarness(t, http1)
		res, err := h.sdk.Images.Generate(ctx, oai.ImageGenerateParams{Model: "flux-dev", Prompt: "a lighthouse", Size: "1024x768"})
		if err != nil || len(res.Data) != 1 || res.Data[0].URL == "" {
			t.Fatalf("url generation: %v", err)
		}
		res, err = h.sdk.Images.Generate(ctx, oai.ImageGenerateParams{Model: "flux-dev", Prompt: "an otter",
			ResponseFormat: oai.ImageGenerateParamsResponseFormatB64JSON})
		if err != nil || len(res.Data) != 1 || res.Data[0].B64JSON == "" {
			t.Fatalf("sync_mode generation: %v", err)
		}
		code, _, body := h.post(ctx, "/v1/images/generations",
			`{"model":"recraft","prompt":"a fox","size":"512x512","response_format":"b64_json"}`)
		var out struct {
			Data []struct {
				B64 string `json:"b64_json"`
			} `json:"data"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &out) != nil || len(out.Data) != 1 {
			t.Fatalf("downloaded generation: status %d: %s", code, body)
		}
		if raw, err := base64.StdEncoding.DecodeString(out.Data[0].B64); err != nil || len(raw) == 0 {
			t.Fatalf("downloaded image is not base64: %v", err)
		}
		if c := h.fake.Counts(); c.Submits != 3 || c.Results != 3 || c.CDN != 1 {
			t.Fatalf("fal saw %+v", c)
		}
		h.assertHTTP1()
	})

	for _, b := range chatBackends() {
		t.Run("chat/"+b.name, func(t *testing.T) {
			h := newHarness(t, http1, withBackend(b.name))
			res, err := h.sdk.Chat.Completions.New(ctx, sdkChatParams())
			if err != nil || len(res.Choices) != 1 || !strings.HasPrefix(res.Choices[0].Message.Content, "Hello from openai/gpt-4o") {
				t.Fatalf("completion: %v", err)
			}
			stream := h.sdk.Chat.Completions.NewStreaming(ctx, sdkChatParams())
			var acc oai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil || len(acc.Choices) != 1 || acc.Choices[0].Message.Content != res.Choices[0].Message.Content {
				t.Fatalf("stream: %v", err)
			}
			stream.Close()
			h.assertHTTP1()
		})
	}
}

// assertHTTP1 checks that fal received every call over HTTP/1.1.
func (h *harness) assertHTTP1() {
	h.t.Helper()
	calls := h.fake.Received()
	if len(calls) == 0 {
		h.t.Fatal("fal received nothing")
	}
	for _, c := range calls {
		if c.Proto != "HTTP/1.1" {
			h.t.Fatalf("fal received %s %s over %s", c.Method, c.Path, c.Proto)
		}
	}
}
