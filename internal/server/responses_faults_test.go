package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
)

// responsesEvents splits a raw Responses stream into its events' names and
// data, skipping comments; every event must be named, and the stream must
// carry no [DONE].
func responsesEvents(t *testing.T, body []byte) (names []string, data []map[string]any) {
	t.Helper()
	for ev := range strings.SplitSeq(strings.TrimSuffix(string(body), "\n\n"), "\n\n") {
		if strings.HasPrefix(ev, ":") {
			continue
		}
		name, rest, ok := strings.Cut(ev, "\n")
		name, named := strings.CutPrefix(name, "event: ")
		d, isData := strings.CutPrefix(rest, "data: ")
		if !ok || !named || !isData || strings.Contains(d, "[DONE]") {
			t.Fatalf("not a named event: %q", ev)
		}
		names = append(names, name)
		data = append(data, decodeJSON(t, []byte(d)))
	}
	return names, data
}

// responsesModes are the ways falproxy serves /v1/responses: the bridge
// on every chat backend, and the passthrough of fal's responses route.
func responsesModes() map[string]func(*setup) {
	modes := map[string]func(*setup){"passthrough of fal's responses": withResponsesPassthrough}
	for _, b := range chatBackends() {
		modes["bridge on "+b.name] = withBackend(b.name)
	}
	return modes
}

// TestResponsesMidStreamFailure makes fal fail after a few tokens, through
// the bridge on every chat backend and through the passthrough of fal's
// responses route (whose "error" event is turned into response.failed):
// the stream must end with response.failed carrying fal's failure as an
// OpenAI error, after the text that arrived, and never with
// response.completed.
func TestResponsesMidStreamFailure(t *testing.T) {
	for name, mode := range responsesModes() {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, mode)
			code, hdr, body := h.post(context.Background(), "/v1/responses", `{"model":"gpt-4o","stream":true,"input":"tell me a long story [fail] please"}`)
			if code != http.StatusOK || hdr.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, type %q: %s", code, hdr.Get("Content-Type"), body)
			}
			names, data := responsesEvents(t, body)
			last := len(names) - 1
			if names[last] != "response.failed" || strings.Contains(strings.Join(names, " "), "response.completed") {
				t.Fatalf("events %v", names)
			}
			if !strings.Contains(strings.Join(names, " "), "response.output_text.delta") {
				t.Errorf("the text before the failure was lost: %v", names)
			}
			resp := data[last]["response"].(map[string]any)
			e, _ := resp["error"].(map[string]any)
			if resp["status"] != "failed" || e == nil || !strings.Contains(fmt.Sprint(e["message"]), "Runner disconnected") || e["code"] == "" {
				t.Errorf("failed response %v", resp)
			}
		})
	}
}

// TestResponsesFailureBeforeStream checks failures before the first byte:
// an OpenAI error with the status and retry advice of the chat route,
// naming Responses fields, and no fal call for a request that is wrong.
func TestResponsesFailureBeforeStream(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		fault      *falfake.Fault
		status     int
		code       string
		param      string
		retryAfter bool
	}{
		{"unknown model", `{"model":"nope","input":"hi","stream":true}`, nil, http.StatusNotFound, "model_not_found", "model", false},
		{"web search tool", `{"model":"gpt-4o","input":"hi","tools":[{"type":"web_search_preview"}]}`, nil, http.StatusBadRequest, "unsupported_tool", "tools[0].type", false},
		{"flagged prompt", `{"model":"gpt-4o","input":"hi [nsfw]","stream":true}`, nil, http.StatusBadRequest, "content_policy_violation", "input", false},
		{"rate limited", `{"model":"gpt-4o","input":"hi","stream":true}`, &falfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: "3"}, http.StatusServiceUnavailable, "fal_rate_limited", "", true},
		{"job failed", `{"model":"gpt-4o","input":"hi [fail]"}`, nil, http.StatusBadGateway, "runner_disconnected", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withBackend(chat.Router.String()))
			if tt.fault != nil {
				h.fake.Inject(*tt.fault)
			}
			code, hdr, body := h.post(context.Background(), "/v1/responses", tt.body)
			if code != tt.status || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, type %q, want %d JSON: %s", code, hdr.Get("Content-Type"), tt.status, body)
			}
			e := decodeError(t, body)
			if deref(e.Code) != tt.code || deref(e.Param) != tt.param {
				t.Errorf("code %q, param %q; want %q, %q", deref(e.Code), deref(e.Param), tt.code, tt.param)
			}
			if got := hdr.Get("Retry-After") != ""; got != tt.retryAfter {
				t.Errorf("Retry-After %q", hdr.Get("Retry-After"))
			}
			if tt.status < 500 && tt.code != "content_policy_violation" && len(h.fake.Received()) > 0 {
				t.Errorf("fal was called for a request falproxy refuses: %+v", h.fake.Counts())
			}
		})
	}
}

// TestResponsesIncomplete cuts the answer at max_output_tokens on the
// OpenAI-compatible backend: whole and streamed, the response is
// incomplete with reason max_output_tokens, and fal received max_tokens.
func TestResponsesIncomplete(t *testing.T) {
	h := newHarness(t, withBackend(chat.Passthrough.String()))
	for _, stream := range []bool{false, true} {
		h.fake.Reset()
		code, _, body := h.post(context.Background(), "/v1/responses",
			fmt.Sprintf(`{"model":"gpt-4o","stream":%v,"max_output_tokens":2,"input":"a question of many words"}`, stream))
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		var resp map[string]any
		if stream {
			names, data := responsesEvents(t, body)
			if names[len(names)-1] != "response.incomplete" {
				t.Fatalf("events %v", names)
			}
			resp = data[len(data)-1]["response"].(map[string]any)
		} else {
			resp = decodeJSON(t, body)
		}
		details, _ := json.Marshal(resp["incomplete_details"])
		if resp["status"] != "incomplete" || string(details) != `{"reason":"max_output_tokens"}` {
			t.Errorf("stream %v: status %v, details %s", stream, resp["status"], details)
		}
		if in := decodeJSON(t, h.onlyFalCall(falfake.OpChat).Body); in["max_tokens"] != json.Number("2") {
			t.Errorf("fal received %v", in)
		}
	}
}
