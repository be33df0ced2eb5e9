package falfake

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// sdk is the official OpenAI Go client pointed at the emulator's
// OpenAI-compatible route, configured the way fal documents it.
func sdk(f *Fake, c *tclient) oai.Client {
	return oai.NewClient(
		option.WithBaseURL(f.RunURL()+"/openrouter/router/openai/v1/"),
		option.WithAPIKey("not-needed"),
		option.WithHeader("Authorization", "Key "+testKey),
		option.WithHTTPClient(c.hc),
		option.WithMaxRetries(0),
	)
}

func chatParams(text string) oai.ChatCompletionNewParams {
	return oai.ChatCompletionNewParams{
		Model: "google/gemini-2.5-flash",
		Messages: []oai.ChatCompletionMessageParamUnion{
			oai.SystemMessage("be brief"),
			oai.UserMessage(text),
		},
	}
}

func TestChatWithOfficialSDK(t *testing.T) {
	f, c := start(t, Options{})
	client := sdk(f, c)
	ctx := context.Background()

	done, err := client.Chat.Completions.New(ctx, chatParams("how are you"))
	if err != nil {
		t.Fatal(err)
	}
	if done.Object != "chat.completion" || len(done.Choices) != 1 || done.Choices[0].FinishReason != "stop" ||
		!strings.HasSuffix(done.Choices[0].Message.Content, "You said: how are you") || done.Usage.TotalTokens == 0 {
		t.Errorf("completion %s", done.RawJSON())
	}

	params := chatParams("stream please")
	params.StreamOptions = oai.ChatCompletionStreamOptionsParam{IncludeUsage: oai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(ctx, params)
	var acc oai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		if !acc.AddChunk(stream.Current()) {
			t.Fatalf("accumulator rejected chunk %s", stream.Current().RawJSON())
		}
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) != 1 || !strings.HasSuffix(acc.Choices[0].Message.Content, "You said: stream please") ||
		acc.Choices[0].FinishReason != "stop" || acc.Usage.TotalTokens == 0 || chunks < 4 {
		t.Errorf("accumulated %+v after %d chunks", acc.ChatCompletion, chunks)
	}

	failing := client.Chat.Completions.NewStreaming(ctx, chatParams("[fail] now"))
	for failing.Next() {
	}
	if err := failing.Err(); err == nil || !strings.Contains(err.Error(), "Runner disconnected") {
		t.Errorf("failing stream error %v", err)
	}
	if _, err := client.Chat.Completions.New(ctx, chatParams("[fail] now")); err == nil {
		t.Error("failing completion succeeded")
	}
	if got := f.Counts().ChatCompletions; got != 4 {
		t.Errorf("ChatCompletions = %d", got)
	}
}

func TestChatWire(t *testing.T) {
	f, c := start(t, Options{TokenDelay: time.Millisecond})
	url := f.RunURL() + "/" + chatEndpoint
	msgs := []any{map[string]any{"role": "user", "content": []any{
		map[string]any{"type": "text", "text": "look"},
		map[string]any{"type": "image_url", "image_url": "https://example.com/a.png"},
	}}}

	_, ch := c.openStream("POST", url, map[string]any{"model": "m", "messages": msgs, "stream": true, "max_tokens": 2})
	data := dataEvents(ch)
	if data[len(data)-1] != "[DONE]" {
		t.Fatalf("stream does not end in [DONE]: %q", data)
	}
	var ids []string
	var finish []string
	for _, d := range data[:len(data)-1] {
		var chunk struct {
			ID      string            `json:"id"`
			Error   any               `json:"error"`
			Usage   any               `json:"usage"`
			Choices []json.RawMessage `json:"choices"`
		}
		if err := json.Unmarshal([]byte(d), &chunk); err != nil || chunk.Error != nil || chunk.Usage != nil {
			t.Fatalf("chunk %s (%v)", d, err)
		}
		ids = append(ids, chunk.ID)
		if strings.Contains(d, `"finish_reason":"`) {
			finish = append(finish, d)
		}
	}
	if len(data) != 5 || !strings.Contains(data[0], `"role":"assistant"`) {
		t.Errorf("chunks %q", data)
	}
	if len(finish) != 1 || !strings.Contains(finish[0], `"finish_reason":"length"`) {
		t.Errorf("finish chunks %q", finish)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Errorf("chunk ids differ: %q", ids)
		}
	}

	tests := []struct {
		body     any
		code     int
		contains string
	}{
		{map[string]any{"messages": msgs}, 422, `"loc":["body","model"]`},
		{map[string]any{"model": "m"}, 422, `"loc":["body","messages"]`},
		{map[string]any{"model": "m", "messages": []any{}}, 422, `"too_short"`},
		{`{"model":`, 422, `"json_invalid"`},
		{map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": "x [nsfw]"}}}, 400, `{"error":{"message":`},
		{map[string]any{"model": "m", "messages": msgs, "tools": []any{}, "temperature": 0.2}, 200, `"object":"chat.completion"`},
	}
	f.Inject(Fault{Op: OpChat, JobError: "runner_server_error", Times: 1})
	r := c.do("POST", url, map[string]any{"model": "m", "messages": msgs})
	if r.status != 500 || string(r.body) != `{"error":{"message":"Runner server error","type":"server_error","param":null,"code":"runner_server_error"}}` {
		t.Errorf("chat job fault: %d %s", r.status, r.body)
	}
	for _, tt := range tests {
		r := c.do("POST", url, tt.body)
		if r.status != tt.code || !strings.Contains(string(r.body), tt.contains) {
			t.Errorf("%v: %d %s", tt.body, r.status, r.body)
		}
	}
}
